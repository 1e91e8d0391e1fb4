package resilience

import (
	"errors"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/harness/load"
	"rpcbench/harness/record"
	"rpcbench/harness/results"
)

// Phases of a timeline, by the fault window.
const (
	before = iota
	during
	after
)

// timeline records a scenario run in time buckets: calls ended OK or
// failed by the bucket of their start, latency per phase, and the calls
// each instance answered per bucket.
type timeline struct {
	bucket     time.Duration
	n          int
	windowFrom time.Duration // the fault window
	windowTo   time.Duration
	end        time.Duration

	// workers[i] belongs to load worker i (the last one to the pacer's
	// never-sent calls), so recording takes no lock.
	workers []*workerLine

	// Answers come from attempts, which may run outside the load's
	// workers (hedges): counted atomically.
	index  map[string]int // instance ID -> row; read-only
	served [][]atomic.Int64
	late   atomic.Int64 // answers after the timeline's end, counted in its last bucket
	base   atomic.Pointer[time.Time]
}

type workerLine struct {
	ok, failed []int64
	phases     [3]*record.Recorder
}

func newTimeline(bucket, end, windowFrom, windowTo time.Duration, workers int, instances []string) *timeline {
	n := int((end + bucket - 1) / bucket)
	tl := &timeline{bucket: bucket, n: n, end: end, windowFrom: windowFrom, windowTo: windowTo, index: map[string]int{}}
	for range workers + 1 {
		w := &workerLine{ok: make([]int64, n), failed: make([]int64, n)}
		for p := range w.phases {
			w.phases[p] = record.NewRecorder(false)
		}
		tl.workers = append(tl.workers, w)
	}
	tl.served = make([][]atomic.Int64, len(instances))
	for i, id := range instances {
		tl.index[id] = i
		tl.served[i] = make([]atomic.Int64, n)
	}
	return tl
}

// start marks the timeline's zero: the load's first scheduled call.
func (tl *timeline) start() {
	now := time.Now()
	tl.base.Store(&now)
}

func (tl *timeline) bucketOf(t time.Duration) int {
	return min(max(int(t/tl.bucket), 0), tl.n-1)
}

func (tl *timeline) phaseOf(t time.Duration) int {
	switch {
	case t < tl.windowFrom:
		return before
	case t < tl.windowTo:
		return during
	}
	return after
}

// onCall is the load engine's per-call hook.
func (tl *timeline) onCall(worker int, start, done time.Duration, err error) {
	w := tl.workers[worker]
	b, rec := tl.bucketOf(start), w.phases[tl.phaseOf(start)]
	lat := int64(done - start)
	if err == nil {
		w.ok[b]++
		rec.OK(lat, lat)
		return
	}
	w.failed[b]++
	rec.Fail(classify(err), err.Error(), lat)
}

// classify names a failed call's code as the load engine does.
func classify(err error) string {
	if errors.Is(err, load.ErrNotSent) {
		return "not_sent"
	}
	return rpcbench.CodeOf(err).Slug()
}

// onAttempt is the cluster client's per-attempt hook: it counts answers.
// Attempts before the timeline (the warm-up) are not counted.
func (tl *timeline) onAttempt(instance string, err error) {
	base := tl.base.Load()
	if err != nil || base == nil {
		return
	}
	row, ok := tl.index[instance]
	if !ok {
		return
	}
	t := time.Since(*base)
	if t >= tl.end {
		tl.late.Add(1)
	}
	tl.served[row][tl.bucketOf(t)].Add(1)
}

// fill writes the timeline's figures into run: totals, buckets, phases.
func (tl *timeline) fill(run *results.ScenarioRun) error {
	run.BucketNs = int64(tl.bucket)
	run.OKs, run.Fails = make([]int64, tl.n), make([]int64, tl.n)
	var phases [3]*record.Recorder
	for p := range phases {
		phases[p] = record.NewRecorder(false)
	}
	for _, w := range tl.workers {
		for b := range tl.n {
			run.OKs[b] += w.ok[b]
			run.Fails[b] += w.failed[b]
		}
		for p := range phases {
			phases[p].Merge(w.phases[p])
		}
	}
	all := record.NewRecorder(false)
	for _, r := range phases {
		all.Merge(r)
	}
	run.OK, run.Failed = all.Latency.Count(), all.ErrorCount()
	run.FailedByCode, run.ErrorSamples = all.Errors, all.FirstError
	run.Served = make([][]int64, len(tl.served))
	for i, row := range tl.served {
		run.Served[i] = make([]int64, tl.n)
		for b := range row {
			run.Served[i][b] = row[b].Load()
		}
	}
	bounds := [3][2]time.Duration{{0, tl.windowFrom}, {tl.windowFrom, tl.windowTo}, {tl.windowTo, tl.end}}
	out := [3]*results.Phase{&run.Before, &run.During, {}}
	for p, r := range phases {
		ph := out[p]
		ph.StartNs, ph.EndNs = int64(bounds[p][0]), int64(bounds[p][1])
		ph.OK, ph.Failed, ph.Latency = r.Latency.Count(), r.ErrorCount(), r.Latency.Summary()
		var err error
		if ph.Hist, err = r.Latency.Encode(); err != nil {
			return err
		}
	}
	if tl.windowTo < tl.end {
		run.After = out[after]
	}
	return nil
}

// errorFreeAfter is how long after a fault at time at the first stretch
// of settle buckets without a failed call begins: 0 if the fault's own
// bucket starts such a stretch, -1 if none does before the end.
func errorFreeAfter(fails []int64, bucket, at time.Duration, settle int) time.Duration {
	settle = max(settle, 1)
	first := int(at / bucket)
	for j := first; j+settle <= len(fails); j++ {
		clean := true
		for _, f := range fails[j : j+settle] {
			if f > 0 {
				clean = false
				break
			}
		}
		if clean {
			return max(time.Duration(j)*bucket-at, 0)
		}
	}
	return -1
}
