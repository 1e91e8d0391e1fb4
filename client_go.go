package rpcbench

import (
	"context"
	"sync"
)

// Go starts a call and returns at once, as net/rpc's Go does: the call is
// sent and registered with its connection's calls in flight, and the
// connection's reader completes it when the reply arrives. Future.Wait
// then decodes the reply into resp and returns the call's error; resp must
// not be read before Wait returns. Ending ctx abandons the call and sends
// the server a cancel, as for Call.
//
// A transport whose connections carry one call at a time (Exchanger:
// HTTP/1.1) has no shared reader; there Go runs the exchange on a
// goroutine of its own.
func (c *Client) Go(ctx context.Context, method string, req, resp any) *Future {
	f := &Future{c: c, method: method, resp: resp}
	call := getCall()
	cc, err := c.prepare(ctx, call, method, req)
	if err != nil {
		putCall(call)
		return f.settle(err)
	}
	f.call, f.cc = call, cc
	call.future = f
	if ex, ok := cc.conn.(Exchanger); ok {
		f.decoded = true
		go func() {
			f.err = c.exchange(ctx, ex, call, method, resp)
			call.deliver()
		}()
		return f
	}
	if err := cc.send(call, method); err != nil {
		putCall(call)
		return f.settle(err)
	}
	if ctx.Done() != nil {
		f.id = call.req.RequestID
		f.stop = context.AfterFunc(ctx, func() { f.contextEnded(ctx) })
	}
	return f
}

// Future is a call started by Go. Done and Wait are safe for concurrent
// use.
type Future struct {
	c      *Client
	method string
	resp   any

	// Set by Go before the call is sent, then read-only.
	call    *pendingCall
	cc      *clientConn
	id      uint64      // the call's request ID, for the context watch
	stop    func() bool // stops the context watch; nil without one
	decoded bool        // the exchange goroutine decodes, and sets err

	waitMu sync.Mutex // serialises Wait
	waited bool       // err holds the result; call went back to its pool
	err    error

	mu      sync.Mutex
	arrived bool          // the reply (or a failure) is there
	done    chan struct{} // made by Done before the arrival
}

// settle completes a Future that never reached the network.
func (f *Future) settle(err error) *Future {
	f.err, f.waited, f.arrived = err, true, true
	return f
}

// arrive marks the call complete, closing Done's channel if one was asked
// for. Called once per call, before its token is delivered.
func (f *Future) arrive() {
	f.mu.Lock()
	f.arrived = true
	if f.done != nil {
		close(f.done)
	}
	f.mu.Unlock()
}

// contextEnded abandons the call when its context ends first.
func (f *Future) contextEnded(ctx context.Context) {
	// The call may have been answered and recycled already: only f.id is
	// safe to read until abandon says the call is still ours. A stale ID
	// finds nothing, since request IDs are not reused.
	if !f.cc.abandon(f.id) {
		return // the reply is being delivered, or was
	}
	call := f.call
	f.cc.sendCancel(&call.req)
	call.err = canceled(ctx, f.method)
	call.deliver()
}

// Done returns a channel closed when the call has completed; Wait then
// returns without blocking. Asking for it before completion costs an
// allocation; Wait alone does not need it.
func (f *Future) Done() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.arrived {
		return closedChan
	}
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

// Wait blocks until the call completes, decodes the reply into resp, and
// returns the call's error. Later calls return the same error.
func (f *Future) Wait() error {
	f.waitMu.Lock()
	defer f.waitMu.Unlock()
	if f.waited {
		return f.err
	}
	call := f.call
	<-call.done
	if f.stop != nil {
		f.stop()
	}
	if !f.decoded {
		f.err = f.c.finish(call, f.method, f.resp)
	}
	f.waited = true
	putCall(call)
	return f.err
}
