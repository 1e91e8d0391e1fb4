// Package wakeup wakes a goroutine at a deadline with sub-millisecond
// precision, for the load generator's pacer and the network emulator's
// delivery schedulers.
package wakeup

import (
	"context"
	"time"
)

// Wait returns after d, or with ctx's error.
func (t *Timer) Wait(ctx context.Context, d time.Duration) error {
	t.Reset(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
