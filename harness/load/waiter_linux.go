package load

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// waiter sleeps until a deadline with sub-millisecond precision whether
// the process is idle or busy, without busy-waiting:
//
//   - Idle, Go's runtime sleeps in the network poller with a millisecond
//     timeout, so a Go timer alone would wake up to a millisecond late. A
//     timerfd armed for the deadline wakes the poller at once.
//   - Busy, the runtime checks its timers at every scheduling point but
//     polls the network only when it runs out of work (or every 10 ms), so
//     a timerfd alone could be noticed late. A Go timer for the same
//     deadline covers that case.
//
// The pacer waits for whichever fires first and re-checks the clock, so a
// stale wake-up only costs another wait.
type waiter struct {
	fd    int
	f     *os.File
	wake  chan struct{} // signalled by the timerfd reader
	timer *time.Timer
}

func newWaiter() *waiter {
	w := &waiter{fd: -1, wake: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	w.timer.Stop()
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return w
	}
	w.fd, w.f = fd, os.NewFile(uintptr(fd), "timerfd")
	go func() {
		var buf [8]byte
		for {
			if _, err := w.f.Read(buf[:]); err != nil {
				return // closed
			}
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

// wait returns after d, or with ctx's error.
func (w *waiter) wait(ctx context.Context, d time.Duration) error {
	if w.f != nil {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(int64(d), 1))}
		unix.TimerfdSettime(w.fd, 0, &spec, nil)
	}
	w.timer.Reset(d)
	defer w.timer.Stop()
	select {
	case <-w.wake:
	case <-w.timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (w *waiter) close() {
	w.timer.Stop()
	if w.f != nil {
		w.f.Close()
	}
}
