package rpcbench

import (
	"context"
	"sync"
	"time"
)

// callCtx is a handler's context: the caller's deadline and cancellation in
// one object embedded in the server's per-call state, so that a call costs no
// context allocations. Its Done channel and deadline timer are made only if
// a handler asks for them.
type callCtx struct {
	parent   context.Context
	deadline time.Time

	mu    sync.Mutex
	done  chan struct{}
	err   error
	timer *time.Timer
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	if c.err != nil || c.expiredLocked() {
		c.done = closedChan
		return c.done
	}
	c.done = make(chan struct{})
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	}
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.expiredLocked() {
		c.finishLocked(context.DeadlineExceeded)
	}
	return c.err
}

func (c *callCtx) expiredLocked() bool {
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
		return true
	}
	return false
}

// cancel ends the context with err unless it has ended already, and returns
// the error it had before (nil if it was live).
func (c *callCtx) cancel(err error) (prev error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cancelLocked(err)
}

func (c *callCtx) cancelLocked(err error) (prev error) {
	prev = c.err
	if prev == nil {
		c.finishLocked(err)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	return prev
}

func (c *callCtx) finishLocked(err error) {
	c.err = err
	if c.done != nil && c.done != closedChan {
		close(c.done)
	}
}

// end ends the context when its call has run, as cancel(context.Canceled)
// would. It reports whether the caller had cancelled the call, and whether
// nobody asked for the Done channel, so that no timer or goroutine can
// still refer to the context.
func (c *callCtx) end() (canceled, untouched bool) {
	c.mu.Lock()
	canceled = c.cancelLocked(context.Canceled) == context.Canceled
	untouched = c.done == nil && c.timer == nil
	c.mu.Unlock()
	return canceled, untouched
}

func (c *callCtx) String() string { return "rpcbench.callCtx" }
