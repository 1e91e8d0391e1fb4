package quic

import "sync/atomic"

// parkedWorkers is a pool of goroutines for per-stream work (reading a
// call's request or reply). A stream-per-call connection needs one blocked
// reader per call; starting a fresh goroutine for each costs its start and,
// above all, growing its stack again on the way into quic-go's Read, which
// profiles showed as a tenth of the CPU. Workers that finish park, up to
// maxParked of them, until the next job or until done is closed (the
// connection ended).
type parkedWorkers[T any] struct {
	jobs      chan T
	run       func(T)
	done      <-chan struct{}
	parked    atomic.Int32
	maxParked int32
}

func newParkedWorkers[T any](run func(T), done <-chan struct{}, maxParked int32) *parkedWorkers[T] {
	return &parkedWorkers[T]{jobs: make(chan T), run: run, done: done, maxParked: maxParked}
}

// dispatch runs job on a parked worker if one is waiting, else on a new one.
func (p *parkedWorkers[T]) dispatch(job T) {
	select {
	case p.jobs <- job:
	default:
		go p.work(job)
	}
}

func (p *parkedWorkers[T]) work(job T) {
	for {
		p.run(job)
		if p.parked.Add(1) > p.maxParked {
			p.parked.Add(-1)
			return
		}
		select {
		case job = <-p.jobs:
			p.parked.Add(-1)
		case <-p.done:
			p.parked.Add(-1)
			return
		}
	}
}
