// Package wakeup wakes a goroutine at a deadline with sub-millisecond
// precision, for the load generator's pacer and the network emulator's
// delivery schedulers.
package wakeup

import (
	"context"
	"time"
)

// Wait returns after d, or with ctx's error. It costs one system call to
// arm the timer and the wake-up itself: on a virtual machine each system
// call and each sleep is microseconds of CPU, which a pacer releasing
// tens of thousands of calls a second takes from the stack it measures.
// A stale signal (from the Go timer or the timerfd of an earlier deadline,
// whichever came second) makes it wait again for the rest.
func (t *Timer) Wait(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		select { // a signal left over from an earlier deadline
		case <-t.C:
		default:
		}
		t.Reset(d)
		select {
		case <-t.C:
			// Only the Go timer is stopped: the timerfd has fired if it
			// woke us, and if the Go timer did, it fires within moments at
			// the same deadline. Sparing a system call per wait matters
			// more than that rare stale signal, drained above.
			t.timer.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		if d = time.Until(end); d <= 0 {
			return nil
		}
	}
}
