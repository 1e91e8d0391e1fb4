package admit

import (
	"sync"
	"time"
)

// Bytes is a budget of memory for requests being received, shared by the
// readers of a listener (or of one connection, within its listener's).
// Take and Give are safe for concurrent use. A nil *Bytes is an unlimited
// budget.
type Bytes struct {
	limit  int64
	parent *Bytes // also charged, if set

	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed when bytes come back while someone waits
}

// NewBytes returns a budget of limit bytes; limit <= 0 gives nil, no
// budget.
func NewBytes(limit int) *Bytes {
	if limit <= 0 {
		return nil
	}
	return &Bytes{limit: int64(limit)}
}

// Within returns a budget of limit bytes whose takes are charged to
// parent too (a connection's within its listener's); either may be
// unlimited.
func Within(parent *Bytes, limit int) *Bytes {
	if limit <= 0 {
		return parent
	}
	return &Bytes{limit: int64(limit), parent: parent}
}

// Take reserves n bytes, waiting while the budget is spent until deadline
// (no wait if deadline is zero). It reports false if the bytes could not be
// had in time; n larger than the whole budget never can.
func (b *Bytes) Take(n int, deadline time.Time) bool {
	if b == nil || n <= 0 {
		return true
	}
	if !b.take(n, deadline) {
		return false
	}
	if !b.parent.Take(n, deadline) {
		b.give(n)
		return false
	}
	return true
}

func (b *Bytes) take(n int, deadline time.Time) bool {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.used+int64(n) <= b.limit {
			b.used += int64(n)
			b.mu.Unlock()
			return true
		}
		wait := time.Until(deadline)
		if int64(n) > b.limit || deadline.IsZero() || wait <= 0 {
			b.mu.Unlock()
			return false
		}
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.mu.Unlock()
		if t == nil {
			t = time.NewTimer(wait)
		}
		select {
		case <-freed:
		case <-t.C:
			return b.take(n, time.Time{})
		}
	}
}

// Give returns n bytes taken before.
func (b *Bytes) Give(n int) {
	if b == nil || n <= 0 {
		return
	}
	b.give(n)
	b.parent.Give(n)
}

func (b *Bytes) give(n int) {
	b.mu.Lock()
	b.used -= int64(n)
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
}

// Used returns the bytes taken now.
func (b *Bytes) Used() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(b.used)
}
