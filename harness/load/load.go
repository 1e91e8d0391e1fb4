// Package load is the harness's load engine. It drives a target.Target
// with one of two load models and records every call:
//
//   - Closed loop: Workers goroutines spread over the connections, each
//     waiting for its reply before its next call. Latency runs from the
//     actual send.
//   - Open loop: calls are scheduled at a target rate (constant spacing or
//     Poisson arrivals) independent of replies, and handed to up to
//     Workers goroutines. Latency runs from each call's intended send time,
//     so a stall raises the latency of every call it delayed (coordinated
//     omission is corrected); the latency from the actual send is kept in
//     a second histogram. The engine reports the pacer's own lateness and
//     the time calls waited for a free worker, so a run in which the
//     generator fell behind its schedule is flagged, not hidden.
//
// Runs stop issuing at the end of their duration (or call count) and wait
// for outstanding calls; a hard deadline (Grace after the end) cancels what
// is left, and those calls count as errors.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/harness/record"
	"rpcbench/target"
	"rpcbench/wakeup"
)

// Options configure one run. Zero values select the documented defaults.
type Options struct {
	// Workers is the number of concurrent callers (closed loop) or the most
	// calls in flight at once (open loop). Default 1.
	Workers int
	// Open selects the open-loop model at Rate calls per second.
	Open bool
	Rate float64
	// Poisson spaces open-loop arrivals exponentially instead of evenly.
	Poisson bool
	// Seed seeds Poisson arrivals. Default 1.
	Seed int64
	// Duration is how long the run issues calls; Calls, if positive, is a
	// call count instead.
	Duration time.Duration
	Calls    int64
	// Grace is how long outstanding calls may run after the end before they
	// are cancelled. Default 10s.
	Grace time.Duration
	// Classify turns a call error into a code slug for the error counts.
	// Default: Classify.
	Classify func(error) string
	// Started, if set, is called after every worker and histogram has been
	// allocated and just before the first call; Stopped after the last
	// call completes, before anything is merged. Cost probes taken in them
	// see the calls and none of the engine's own set-up.
	Started, Stopped func()
	// OnCall, if set, sees every call as it is recorded: the worker that
	// made it (Workers for calls the pacer never released), its start (the
	// intended send time in open loop, the send in closed loop) and end as
	// offsets from the run's start, and its error (ErrNotSent for calls
	// never sent). Each worker calls it from its own goroutine, so a
	// recorder kept per worker needs no lock. Time-bucketed recording
	// (harness/resilience) is built on it.
	OnCall func(worker int, start, done time.Duration, err error)
}

// Classify is the default error classifier: an error that names its own
// code (ErrorCode() string: an external target's gRPC code or HTTP
// status) is counted under it, any other by rpcbench.CodeOf.
func Classify(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode()
	}
	return rpcbench.CodeOf(err).Slug()
}

// ErrNotSent is the error OnCall sees for scheduled calls never sent
// because the run's hard deadline passed first.
var ErrNotSent = errors.New("load: run deadline passed before the call was sent")

// Result is what one run recorded.
type Result struct {
	// Rec holds the merged histograms and error counts of every worker.
	Rec *record.Recorder
	// Calls is the number of calls sent and completed (successful or
	// failed); scheduled calls never sent are only in Rec's errors.
	Calls int64
	// Elapsed runs from the first scheduled call to the last completion.
	Elapsed time.Duration
	// Open-loop figures.
	Open *OpenResult
}

// OpenResult describes how well an open-loop run kept its schedule.
type OpenResult struct {
	TargetRate float64
	// Scheduled calls had an intended time inside the run; Unsent of them
	// were never sent because the hard deadline passed first (they are
	// also counted as "not_sent" errors).
	Scheduled, Unsent int64
	// PacerLag is how late the pacer released each call after its intended
	// time, not counting time it spent blocked because every worker was
	// busy: the generator's own lateness.
	PacerLag *record.Histogram
	// QueueDelay is how long released calls waited for a free worker:
	// in-flight cap reached, the system is not keeping up.
	QueueDelay *record.Histogram
	// Blocked counts releases delayed because the queue of released calls
	// was full.
	Blocked int64
}

// AchievedRate is completed calls per second.
func (r *Result) AchievedRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

func (o *Options) fill() error {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Classify == nil {
		o.Classify = Classify
	}
	if o.Duration <= 0 && o.Calls <= 0 {
		return errors.New("load: a run needs a duration or a call count")
	}
	if o.Open && !(o.Rate > 0) {
		return fmt.Errorf("load: open loop needs a positive rate, got %v", o.Rate)
	}
	return nil
}

// Run drives conns with opts and returns what was recorded. Worker i uses
// conns[i%len(conns)]. Run returns an error only if it could not start
// (bad options, a caller that could not be made); failed calls are
// recorded, not returned.
func Run(ctx context.Context, conns []target.Conn, opts Options) (*Result, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if len(conns) == 0 {
		return nil, errors.New("load: no connections")
	}
	callers := make([]target.Caller, opts.Workers)
	for i := range callers {
		c, err := conns[i%len(conns)].NewCaller()
		if err != nil {
			return nil, fmt.Errorf("load: worker %d: %w", i, err)
		}
		callers[i] = c
	}
	limit := opts.Duration
	if opts.Calls > 0 {
		// A call count still needs a hard deadline; it is generous.
		limit = time.Hour
	}
	// The hard end cancels the run's context rather than setting its
	// deadline: a deadline would travel with every call (rpcbench's
	// budget, gRPC's grpc-timeout) and charge the stacks that propagate
	// deadlines a clock read per call on each side that the raw limits do
	// not pay, for a limit no call ever reaches in a healthy run.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hardEnd := time.AfterFunc(limit+opts.Grace, cancel)
	defer hardEnd.Stop()
	runCtx := hardEndCtx{cctx, ctx}
	if opts.Open {
		return runOpen(runCtx, callers, &opts), nil
	}
	return runClosed(runCtx, callers, &opts), nil
}

// hardEndCtx is a run's context: cancelled at the hard end, it reports
// context.DeadlineExceeded, since the calls it cuts ran past the run's
// time, yet it has no Deadline for calls to carry. The parent's own end
// (an interrupted run) reports as the parent does.
type hardEndCtx struct {
	context.Context
	parent context.Context
}

func (c hardEndCtx) Err() error {
	err := c.Context.Err()
	if err != nil && c.parent.Err() == nil {
		return context.DeadlineExceeded
	}
	return err
}

// runClosed: each worker calls back to back until the end.
func runClosed(ctx context.Context, callers []target.Caller, o *Options) *Result {
	shared := record.NewShared(false)
	var remaining atomic.Int64
	remaining.Store(o.Calls)
	var wg sync.WaitGroup
	start := make(chan struct{})
	end := o.Duration
	var base time.Time
	for i, call := range callers {
		wg.Go(func() {
			rec := shared.Batch()
			defer rec.Flush()
			<-start
			for {
				if o.Calls > 0 {
					if remaining.Add(-1) < 0 {
						return
					}
				}
				start := time.Since(base)
				if o.Calls <= 0 && start >= end {
					return
				}
				if ctx.Err() != nil {
					return
				}
				err := call(ctx)
				done := time.Since(base)
				lat := int64(done - start)
				if err == nil {
					rec.OK(lat, lat)
				} else {
					rec.Fail(o.Classify(err), err.Error(), lat)
				}
				if o.OnCall != nil {
					o.OnCall(i, start, done, err)
				}
			}
		})
	}
	if o.Started != nil {
		o.Started()
	}
	base = time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(base)
	if o.Stopped != nil {
		o.Stopped()
	}
	return finish([]*record.Recorder{shared.Recorder()}, elapsed, nil)
}

// notSent is the error code of scheduled calls never sent.
const notSent = "not_sent"

type slot struct{ intended, released time.Duration }

// runOpen: a pacer releases calls at their intended times; workers send
// them as soon as one is free.
func runOpen(ctx context.Context, callers []target.Caller, o *Options) *Result {
	or := &OpenResult{TargetRate: o.Rate, PacerLag: record.New(), QueueDelay: record.New()}
	shared := record.NewShared(true)
	queues := make([]*record.Histogram, len(callers))
	for i := range queues {
		queues[i] = record.New()
	}
	unsent := record.NewRecorder(true)
	slots := make(chan slot, 4*len(callers))
	var wg sync.WaitGroup
	var base time.Time
	start := make(chan struct{})
	for i, call := range callers {
		queue := queues[i]
		wg.Go(func() {
			rec := shared.Batch()
			defer rec.Flush()
			<-start
			for s := range slots {
				sent := time.Since(base)
				if ctx.Err() != nil {
					rec.Fail(notSent, ErrNotSent.Error(), int64(sent-s.intended))
					if o.OnCall != nil {
						o.OnCall(i, s.intended, sent, ErrNotSent)
					}
					continue
				}
				queue.Record(int64(sent - s.released))
				err := call(ctx)
				done := time.Since(base)
				if err == nil {
					rec.OK(int64(done-s.intended), int64(done-sent))
				} else {
					rec.Fail(o.Classify(err), err.Error(), int64(done-s.intended))
				}
				if o.OnCall != nil {
					o.OnCall(i, s.intended, done, err)
				}
			}
		})
	}
	w := wakeup.New()
	defer w.Close()
	if o.Started != nil {
		o.Started()
	}
	base = time.Now()
	close(start)
	pace(ctx, base, slots, o, or, unsent, w)
	wg.Wait()
	elapsed := time.Since(base)
	if o.Stopped != nil {
		o.Stopped()
	}
	res := finish([]*record.Recorder{shared.Recorder(), unsent}, elapsed, or)
	for _, q := range queues {
		or.QueueDelay.Merge(q)
	}
	return res
}

// pace releases the schedule into slots and closes it.
// Calls the deadline stops it from releasing are recorded in unsent as
// "not_sent" errors, with their lateness so far as a lower bound.
func pace(ctx context.Context, base time.Time, slots chan<- slot, o *Options, or *OpenResult, unsent *record.Recorder, w *wakeup.Timer) {
	defer close(slots)
	next := schedule(o)
	blocked := false
	for i := int64(0); ; i++ {
		t := next()
		if o.Calls > 0 && i >= o.Calls || o.Calls <= 0 && t >= o.Duration {
			return
		}
		now := time.Since(base)
		if t > now { // Wait returns only once t-now has passed
			if err := w.Wait(ctx, t-now); err != nil {
				dropRest(base, next, i, t, o, unsent) // the deadline passed
				return
			}
			now = time.Since(base)
		}
		if !blocked {
			or.PacerLag.Record(int64(now - t))
		}
		s := slot{intended: t, released: now}
		select {
		case slots <- s:
			blocked = false
		default:
			// Every worker is busy and the queue is full: the system is
			// not keeping up. Wait for room; the lateness this causes to
			// the next releases is the system's, not the pacer's.
			or.Blocked++
			blocked = true
			select {
			case slots <- s:
			case <-ctx.Done():
				dropRest(base, next, i, t, o, unsent)
				return
			}
		}
	}
}

// dropRest records the current call (number i at time t) and every later
// one in the schedule as never sent.
func dropRest(base time.Time, next func() time.Duration, i int64, t time.Duration, o *Options, rec *record.Recorder) {
	now := time.Since(base)
	for ; o.Calls > 0 && i < o.Calls || o.Calls <= 0 && t < o.Duration; i, t = i+1, next() {
		rec.Fail(notSent, ErrNotSent.Error(), int64(max(now-t, 0)))
		if o.OnCall != nil {
			o.OnCall(o.Workers, t, now, ErrNotSent)
		}
	}
}

// schedule returns the intended send times, as offsets from the start.
func schedule(o *Options) func() time.Duration {
	if !o.Poisson {
		var i int64
		return func() time.Duration {
			t := time.Duration(float64(i) * 1e9 / o.Rate)
			i++
			return t
		}
	}
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x5851f42d4c957f2d))
	var t float64 // seconds
	return func() time.Duration {
		d := time.Duration(t * 1e9)
		t += r.ExpFloat64() / o.Rate
		return d
	}
}

// finish merges the workers' recorders.
func finish(recs []*record.Recorder, elapsed time.Duration, or *OpenResult) *Result {
	merged := record.NewRecorder(or != nil)
	for _, r := range recs {
		merged.Merge(r)
	}
	unsent := merged.Errors[notSent]
	if or != nil {
		or.Unsent = unsent
		or.Scheduled = merged.Latency.Count() + merged.ErrorCount()
	}
	return &Result{
		Rec:     merged,
		Calls:   merged.Latency.Count() + merged.ErrorCount() - unsent,
		Elapsed: elapsed,
		Open:    or,
	}
}

// IntervalNs is the mean spacing of an open-loop schedule, for reports.
func IntervalNs(rate float64) int64 {
	if rate <= 0 {
		return 0
	}
	return int64(math.Round(1e9 / rate))
}
