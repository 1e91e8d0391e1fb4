package netem

import (
	"container/heap"
	"sync"
	"time"

	"rpcbench/wakeup"
)

// delivery is a packet due at a time; to says where it goes (the
// scheduler's deliver function reads it).
type delivery struct {
	at  time.Time
	seq uint64 // ties keep arrival order
	b   []byte
	to  any
}

// schedule delivers packets at their due times from one goroutine, in
// time order. Pushing is safe for concurrent use.
type schedule struct {
	deliver func(d *delivery)
	mu      sync.Mutex
	q       deliveries
	seq     uint64
	closed  bool
	// busy: a delivery is in progress (here or inline in push); one at a
	// time keeps a TCP stream's chunks in order.
	busy  bool
	kick  chan struct{}
	done  chan struct{}
	timer *wakeup.Timer
	// late records how late deliveries were, for Stats.
	late lateness
}

func newSchedule(deliver func(*delivery)) *schedule {
	s := &schedule{deliver: deliver, kick: make(chan struct{}, 1), done: make(chan struct{}), timer: wakeup.New()}
	go s.run()
	return s
}

// push queues b for delivery at at. A packet already due with nothing
// ahead of it is delivered at once by the caller, sparing a goroutine
// hop on an unimpaired path.
func (s *schedule) push(at time.Time, b []byte, to any) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.q) == 0 && !s.busy && !at.After(time.Now()) {
		s.busy = true
		s.mu.Unlock()
		s.deliver(&delivery{at: at, b: b, to: to})
		s.mu.Lock()
		s.busy = false
		more := len(s.q) > 0
		s.mu.Unlock()
		if more {
			s.wake()
		}
		return
	}
	s.seq++
	heap.Push(&s.q, &delivery{at: at, seq: s.seq, b: b, to: to})
	first := s.q[0].seq == s.seq
	s.mu.Unlock()
	if first {
		s.wake()
	}
}

func (s *schedule) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *schedule) run() {
	defer close(s.done)
	defer s.timer.Close()
	for {
		s.mu.Lock()
		now := time.Now()
		for len(s.q) > 0 && !s.q[0].at.After(now) && !s.closed && !s.busy {
			d := heap.Pop(&s.q).(*delivery)
			s.busy = true
			s.mu.Unlock()
			s.late.record(now.Sub(d.at))
			s.deliver(d)
			s.mu.Lock()
			s.busy = false
			now = time.Now()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		wait := time.Duration(-1)
		if len(s.q) > 0 && !s.busy {
			wait = s.q[0].at.Sub(now)
		}
		s.mu.Unlock()
		if wait >= 0 {
			s.timer.Reset(wait)
		}
		select {
		case <-s.timer.C:
		case <-s.kick:
		}
		s.timer.Stop()
	}
}

// close stops the scheduler, dropping what it still holds, and waits for
// its goroutine.
func (s *schedule) close() {
	s.mu.Lock()
	s.closed = true
	s.q = nil
	s.mu.Unlock()
	s.wake()
	<-s.done
}

type deliveries []*delivery

func (q deliveries) Len() int { return len(q) }
func (q deliveries) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q deliveries) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *deliveries) Push(x any)   { *q = append(*q, x.(*delivery)) }
func (q *deliveries) Pop() any {
	old := *q
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return d
}
