package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// BreakerState is a circuit breaker's state.
type BreakerState int32

const (
	// Closed: calls flow; consecutive failures are counted.
	Closed BreakerState = iota
	// Open: no calls until the cooldown has passed.
	Open
	// HalfOpen: a limited number of probe calls decide between Closed and
	// Open.
	HalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "unknown"
}

// outcome is what an attempt says about its instance's health.
type outcome int

const (
	neutral outcome = iota // says nothing (application error, caller's deadline)
	success
	failure
)

// breaker is one instance's circuit breaker. The closed state's checks
// are lock-free; transitions take the mutex.
type breaker struct {
	opts *BreakerOptions
	now  func() time.Time

	state atomic.Int32
	fails atomic.Int32 // consecutive failures while closed

	mu       sync.Mutex
	openedAt time.Time
	probes   int // probes in flight while half-open

	opened atomic.Uint64 // times opened, for stats
}

func (b *breaker) State() BreakerState { return BreakerState(b.state.Load()) }

// ready reports, without changing anything, whether allow would admit a
// call now: the balancer's filter.
func (b *breaker) ready() bool {
	if b.opts.Failures < 0 || BreakerState(b.state.Load()) == Closed {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch BreakerState(b.state.Load()) {
	case Open:
		return !b.now().Before(b.openedAt.Add(b.opts.Cooldown))
	case HalfOpen:
		return b.probes < b.opts.Probes
	}
	return true
}

// allow admits a call, reporting whether it is a half-open probe.
func (b *breaker) allow() (ok, probe bool) {
	if b.opts.Failures < 0 || BreakerState(b.state.Load()) == Closed {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch BreakerState(b.state.Load()) {
	case Closed:
		return true, false
	case Open:
		if b.now().Before(b.openedAt.Add(b.opts.Cooldown)) {
			return false, false
		}
		b.state.Store(int32(HalfOpen))
		b.probes = 0
	}
	if b.probes >= b.opts.Probes {
		return false, false
	}
	b.probes++
	return true, true
}

// record takes an admitted call's outcome.
func (b *breaker) record(o outcome, probe bool) {
	if b.opts.Failures < 0 {
		return
	}
	if !probe {
		switch {
		case o == success && b.fails.Load() != 0:
			b.fails.Store(0)
		case o == failure && BreakerState(b.state.Load()) == Closed:
			if b.fails.Add(1) >= int32(b.opts.Failures) {
				b.mu.Lock()
				if BreakerState(b.state.Load()) == Closed {
					b.openLocked()
				}
				b.mu.Unlock()
			}
		}
		// Outcomes of calls admitted before the breaker opened do not
		// change an open or half-open breaker: only probes do.
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probes--
	if BreakerState(b.state.Load()) != HalfOpen {
		return
	}
	switch o {
	case success:
		b.fails.Store(0)
		b.state.Store(int32(Closed))
	case failure:
		b.openLocked()
	}
}

func (b *breaker) openLocked() {
	b.state.Store(int32(Open))
	b.openedAt = b.now()
	b.fails.Store(0)
	b.opened.Add(1)
}
