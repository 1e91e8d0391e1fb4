package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// retryBudget is a token bucket counted in thousandths of a token, so
// that the per-call deposit is one atomic add.
type retryBudget struct {
	milli   atomic.Int64
	perCall int64 // deposit per call
	cap     int64
	perSec  float64 // refill rate in tokens
	now     func() time.Time

	mu   sync.Mutex // serialises refills
	last time.Time

	denied atomic.Uint64
}

func newRetryBudget(o BudgetOptions, now func() time.Time) *retryBudget {
	b := &retryBudget{perCall: int64(o.Ratio * 1000), cap: int64(o.Burst * 1000), perSec: o.MinPerSecond, now: now, last: now()}
	b.milli.Store(b.cap) // start full: a new client may retry at once
	return b
}

func (b *retryBudget) add(milli int64) {
	for {
		v := b.milli.Load()
		nv := min(v+milli, b.cap)
		if nv <= v || b.milli.CompareAndSwap(v, nv) {
			return
		}
	}
}

// deposit records one call.
func (b *retryBudget) deposit() {
	if b.perCall > 0 {
		b.add(b.perCall)
	}
}

// withdraw takes a token for one retry or hedge, or reports false.
func (b *retryBudget) withdraw() bool {
	if b.perSec > 0 {
		b.mu.Lock()
		now := b.now()
		if d := now.Sub(b.last); d > 0 {
			b.add(int64(d.Seconds() * b.perSec * 1000))
			b.last = now
		}
		b.mu.Unlock()
	}
	for {
		v := b.milli.Load()
		if v < 1000 {
			b.denied.Add(1)
			return false
		}
		if b.milli.CompareAndSwap(v, v-1000) {
			return true
		}
	}
}

// refund returns a token that was not used.
func (b *retryBudget) refund() { b.add(1000) }
