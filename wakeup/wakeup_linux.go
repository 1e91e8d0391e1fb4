package wakeup

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Timer signals C at its deadline, whether the process is idle or busy,
// without busy-waiting:
//
//   - Idle, Go's runtime sleeps in the network poller with a millisecond
//     timeout, so a Go timer alone would wake up to a millisecond late. A
//     timerfd armed for the deadline wakes the poller at once.
//   - Busy, the runtime checks its timers at every scheduling point but
//     polls the network only when it runs out of work (or every 10 ms), so
//     a timerfd alone could be noticed late. A Go timer for the same
//     deadline covers that case.
//
// Both signal C; a stale wake-up is possible, so a waiter re-checks the
// clock. A Timer is used by one goroutine at a time.
type Timer struct {
	// C receives a value at (or soon after) the deadline.
	C     <-chan struct{}
	wake  chan struct{}
	fd    int
	f     *os.File
	timer *time.Timer
}

// New returns a stopped Timer; Close releases it.
func New() *Timer {
	t := &Timer{fd: -1, wake: make(chan struct{}, 1)}
	t.C = t.wake
	t.timer = time.AfterFunc(time.Hour, t.signal)
	t.timer.Stop()
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return t
	}
	t.fd, t.f = fd, os.NewFile(uintptr(fd), "timerfd")
	rc, err := t.f.SyscallConn()
	if err != nil {
		t.f.Close()
		t.fd, t.f = -1, nil
		return t
	}
	go func() {
		// Each expiry makes the timerfd readable anew, and the runtime's
		// poller (edge-triggered) reports every such edge: signal on each
		// report without reading the expiry count, which would cost two
		// system calls per wake-up (the read and the read that finds
		// nothing more). The count only accumulates; nothing reads it.
		// The first call comes before any wait, and the poller forgets an
		// edge that came before it: an expiry that did is found by reading
		// the count, once.
		first := true
		rc.Read(func(fd uintptr) bool {
			if !first {
				t.signal()
				return false // wait for the next expiry
			}
			first = false
			var buf [8]byte
			if n, _ := unix.Read(int(fd), buf[:]); n == len(buf) {
				t.signal()
			}
			return false
		})
	}()
	return t
}

func (t *Timer) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Reset arms the timer for d from now, replacing any earlier deadline.
func (t *Timer) Reset(d time.Duration) {
	if t.f != nil {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(int64(d), 1))}
		unix.TimerfdSettime(t.fd, 0, &spec, nil)
	}
	t.timer.Reset(d)
}

// Stop disarms the timer; a signal already sent may still be in C.
func (t *Timer) Stop() {
	if t.f != nil {
		unix.TimerfdSettime(t.fd, 0, &unix.ItimerSpec{}, nil)
	}
	t.timer.Stop()
}

// Close stops the timer and its goroutine.
func (t *Timer) Close() {
	t.timer.Stop()
	if t.f != nil {
		t.f.Close()
	}
}
