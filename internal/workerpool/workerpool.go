// Package workerpool keeps goroutines parked between jobs. Starting a
// fresh goroutine per job costs its start and, above all, growing its
// stack again on the way into deep calls (quic-go's Read showed as a tenth
// of the CPU in profiles); a parked worker keeps its grown stack, and
// reusing it saves an allocation per job.
package workerpool

import (
	"sync/atomic"
	"time"
)

// Options bound how long and how many workers stay parked. Zero values
// select the documented defaults.
type Options struct {
	// Done, when closed, makes parked workers exit (the server or the
	// connection ended). Default: never.
	Done <-chan struct{}
	// MaxParked caps the workers parked at once; a worker finishing a job
	// beyond the cap exits. Default: no cap.
	MaxParked int32
	// Idle is how long a worker stays parked before it exits. Default:
	// until Done.
	Idle time.Duration
}

// Pool runs jobs on parked workers. Dispatch is safe for concurrent use.
type Pool[T any] struct {
	jobs   chan T
	run    func(T)
	opts   Options
	parked atomic.Int32 // counted only under a MaxParked cap
}

// New returns a pool whose workers call run for each job.
func New[T any](run func(T), opts Options) *Pool[T] {
	return &Pool[T]{jobs: make(chan T), run: run, opts: opts}
}

// Dispatch runs job on a parked worker if one is waiting, else on a new one.
func (p *Pool[T]) Dispatch(job T) {
	select {
	case p.jobs <- job:
	default:
		go p.work(job)
	}
}

func (p *Pool[T]) work(job T) {
	var idle *time.Timer
	var expired <-chan time.Time
	for {
		p.run(job)
		if p.opts.MaxParked > 0 && p.parked.Add(1) > p.opts.MaxParked {
			p.parked.Add(-1)
			return
		}
		if p.opts.Idle > 0 {
			if idle == nil {
				idle = time.NewTimer(p.opts.Idle)
				expired = idle.C
			} else {
				idle.Reset(p.opts.Idle)
			}
		}
		var ok bool
		select {
		case job = <-p.jobs:
			ok = true
		case <-expired:
		case <-p.opts.Done:
			if idle != nil {
				idle.Stop()
			}
		}
		if p.opts.MaxParked > 0 {
			p.parked.Add(-1)
		}
		if !ok {
			return
		}
	}
}
