//go:build !linux

package load

import (
	"context"
	"time"
)

// waiter sleeps with Go's timers; on Linux a timerfd gives finer pacing.
type waiter struct{}

func newWaiter() *waiter { return &waiter{} }

func (w *waiter) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *waiter) close() {}
