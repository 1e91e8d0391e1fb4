// Package timeseries records one measured window in buckets of fixed
// length: calls completed per bucket and a latency histogram per bucket,
// merged across the load's workers into results.Series.
//
// It hangs on the load engine's OnCall hook and must not disturb what it
// watches: every histogram it will use is allocated before the window
// (none during it, so the client's allocation figures stay the calls'),
// and each worker buffers its calls' latencies and adds them to the
// buckets' histograms under one lock, a batch at a time. One histogram
// per bucket rather than per worker keeps the counters being written in
// cache (see record.Shared).
package timeseries

import (
	"sync"
	"time"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
)

// DefaultBucket is the length of a bucket.
const DefaultBucket = 100 * time.Millisecond

// Recorder watches one window. OnCall is safe for concurrent use by the
// load's workers as long as each worker index is used by one goroutine at
// a time (the load engine's rule); Finish is called once, after the load
// has returned.
type Recorder struct {
	bucket  time.Duration
	n       int
	workers []*worker
	mu      sync.Mutex
	total   []*record.Histogram // per bucket, under mu
}

// batch is how many latencies a worker buffers before it takes the lock.
const batch = 128

type worker struct {
	n          int
	b          [batch]int32 // bucket of each buffered latency
	lat        [batch]int64
	ok, failed []int64
}

// MaxBuckets bounds a series: a longer window gets longer buckets, so the
// histograms of a series never take more than a few tens of megabytes.
const MaxBuckets = 600

// New returns a recorder for a window of about window, in buckets of
// bucket (longer if the window would need more than MaxBuckets), for
// workers load workers (plus one slot for the open-loop pacer's never-sent
// calls).
func New(window, bucket time.Duration, workers int) *Recorder {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	if window > MaxBuckets*bucket {
		bucket = (window + MaxBuckets - 1) / MaxBuckets
	}
	n := max(int((window+bucket-1)/bucket), 1)
	r := &Recorder{bucket: bucket, n: n}
	for range workers + 1 {
		r.workers = append(r.workers, &worker{ok: make([]int64, n), failed: make([]int64, n)})
	}
	for range n {
		r.total = append(r.total, record.NewCoarse())
	}
	return r
}

// flush adds wk's buffered latencies to the buckets' histograms.
func (r *Recorder) flush(wk *worker) {
	r.mu.Lock()
	for i := range wk.n {
		r.total[wk.b[i]].Record(wk.lat[i])
	}
	r.mu.Unlock()
	wk.n = 0
}

// OnCall records one call completed at done (an offset from the window's
// start) after latency start..done; it has the load.Options.OnCall
// signature.
func (r *Recorder) OnCall(w int, start, done time.Duration, err error) {
	if w < 0 || w >= len(r.workers) {
		return
	}
	wk := r.workers[w]
	b := min(max(int(done/r.bucket), 0), r.n-1)
	if err != nil {
		wk.failed[b]++
		return
	}
	wk.ok[b]++
	wk.b[wk.n], wk.lat[wk.n] = int32(b), int64(done-start)
	wk.n++
	if wk.n == batch {
		r.flush(wk)
	}
}

// Finish adds every worker's buffered latencies and returns the series
// of a window that lasted elapsed.
func (r *Recorder) Finish(elapsed time.Duration) *results.Series {
	s := &results.Series{BucketNs: int64(r.bucket), OK: make([]int64, r.n), P50: make([]int64, r.n), P99: make([]int64, r.n), Max: make([]int64, r.n)}
	s.LastNs = int64(elapsed - time.Duration(r.n-1)*r.bucket)
	if s.LastNs <= 0 {
		s.LastNs = int64(r.bucket)
	}
	var failed []int64
	for _, wk := range r.workers {
		r.flush(wk)
		for i := range r.n {
			s.OK[i] += wk.ok[i]
			if wk.failed[i] > 0 {
				if failed == nil {
					failed = make([]int64, r.n)
				}
				failed[i] += wk.failed[i]
			}
		}
	}
	s.Failed = failed
	for i, h := range r.total {
		if h.Count() > 0 {
			s.P50[i], s.P99[i], s.Max[i] = h.Quantile(0.5), h.Quantile(0.99), h.HDR().Max()
		}
	}
	return s
}
