//go:build !linux

package wakeup

import "time"

// Timer signals C at its deadline with Go's timers; on Linux a timerfd
// gives finer precision. A Timer is used by one goroutine at a time.
type Timer struct {
	C     <-chan struct{}
	wake  chan struct{}
	timer *time.Timer
}

// New returns a stopped Timer; Close releases it.
func New() *Timer {
	t := &Timer{wake: make(chan struct{}, 1)}
	t.C = t.wake
	t.timer = time.AfterFunc(time.Hour, func() {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	})
	t.timer.Stop()
	return t
}

// Reset arms the timer for d from now, replacing any earlier deadline.
func (t *Timer) Reset(d time.Duration) { t.timer.Reset(d) }

// Stop disarms the timer; a signal already sent may still be in C.
func (t *Timer) Stop() { t.timer.Stop() }

// Close stops the timer.
func (t *Timer) Close() { t.timer.Stop() }
