package rpcbench

// pendingTable holds a connection's calls in flight by request ID. An ID is
// a slot index in its low 32 bits and the slot's generation above them, so
// a lookup is an index and a compare instead of a map operation, a late
// reply to a call that gave up finds a newer generation and is dropped,
// and IDs do not repeat on a connection (a slot would have to be reused
// 2^32 times). Not safe for concurrent use: clientConn.mu guards it.
type pendingTable struct {
	slots []pendingSlot
	free  []uint32 // indices of empty slots
	n     int      // calls held
}

type pendingSlot struct {
	call *pendingCall
	gen  uint32 // of the call held, or of the last one
}

// add holds call and returns its request ID (never 0).
func (t *pendingTable) add(call *pendingCall) uint64 {
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i = uint32(len(t.slots))
		t.slots = append(t.slots, pendingSlot{})
	}
	s := &t.slots[i]
	if s.gen++; s.gen == 0 {
		s.gen = 1
	}
	s.call = call
	t.n++
	return uint64(s.gen)<<32 | uint64(i)
}

// take removes and returns the call with request ID id, or nil.
func (t *pendingTable) take(id uint64) *pendingCall {
	i := uint32(id)
	if uint64(i) >= uint64(len(t.slots)) {
		return nil
	}
	s := &t.slots[i]
	if s.call == nil || s.gen != uint32(id>>32) {
		return nil
	}
	call := s.call
	s.call = nil
	t.free = append(t.free, i)
	t.n--
	return call
}

// drain removes and returns every call held.
func (t *pendingTable) drain() []*pendingCall {
	calls := make([]*pendingCall, 0, t.n)
	for i := range t.slots {
		if c := t.slots[i].call; c != nil {
			calls = append(calls, c)
			t.slots[i].call = nil
			t.free = append(t.free, uint32(i))
		}
	}
	t.n = 0
	return calls
}
