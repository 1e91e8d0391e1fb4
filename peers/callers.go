package peers

import "sync/atomic"

// callerTable is a pipelined connection's callers, indexed by the id their
// requests carry. add is called with the connection's lock held (so one
// adder at a time); get is called by the connection's reader without any
// lock: the table is copied on write.
type callerTable[T any] struct {
	p atomic.Pointer[[]*T]
}

func (t *callerTable[T]) load() []*T {
	if p := t.p.Load(); p != nil {
		return *p
	}
	return nil
}

// len is the number of callers, and so the index of the next one.
func (t *callerTable[T]) len() int { return len(t.load()) }

func (t *callerTable[T]) add(c *T) {
	old := t.load()
	next := append(append(make([]*T, 0, len(old)+1), old...), c)
	t.p.Store(&next)
}

// get returns the caller with index i, or nil.
func (t *callerTable[T]) get(i uint64) *T {
	if cs := t.load(); i < uint64(len(cs)) {
		return cs[i]
	}
	return nil
}
