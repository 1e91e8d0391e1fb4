// Package timeseries records one measured window in buckets of fixed
// length: calls completed per bucket and a latency histogram per bucket,
// merged across the load's workers into results.Series.
//
// It hangs on the load engine's OnCall hook and must not disturb what it
// watches: every histogram it will use is allocated before the window
// (none during it, so the client's allocation figures stay the calls'),
// each worker records into a histogram of its own without a lock, and
// when a worker's calls move into a new bucket it hands the filled
// histogram to one collector goroutine, which merges it into the bucket's
// total and hands it back empty. Memory stays bounded by the workers, not
// by the window's length.
package timeseries

import (
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
	total   []*record.Histogram // per bucket; the collector's alone until Finish
	filled  chan filled
	spare   chan *record.Histogram
	done    chan struct{}
}

type worker struct {
	cur        *record.Histogram
	b          int // bucket of cur's values
	ok, failed []int64
}

type filled struct {
	b int
	h *record.Histogram
}

// spares is how many empty histograms wait beyond one per worker.
const spares = 4

// MaxBuckets bounds a series: a longer window gets longer buckets, so the
// histograms of a series never take more than a few tens of megabytes.
const MaxBuckets = 600

// New returns a recorder for a window of about window, in buckets of
// bucket (longer if the window would need more than MaxBuckets), for workers load workers (plus one slot for the open-loop
// pacer's never-sent calls). It starts the collector goroutine.
func New(window, bucket time.Duration, workers int) *Recorder {
	if bucket <= 0 {
		bucket = DefaultBucket
	}
	if window > MaxBuckets*bucket {
		bucket = (window + MaxBuckets - 1) / MaxBuckets
	}
	n := max(int((window+bucket-1)/bucket), 1)
	r := &Recorder{bucket: bucket, n: n, done: make(chan struct{})}
	for range workers + 1 {
		r.workers = append(r.workers, &worker{cur: record.NewCoarse(), ok: make([]int64, n), failed: make([]int64, n)})
	}
	for range n {
		r.total = append(r.total, record.NewCoarse())
	}
	r.spare = make(chan *record.Histogram, spares+len(r.workers))
	for range spares {
		r.spare <- record.NewCoarse()
	}
	// Every histogram may be in flight at once: the channel never blocks
	// a worker.
	r.filled = make(chan filled, spares+len(r.workers))
	go r.collect()
	return r
}

func (r *Recorder) collect() {
	defer close(r.done)
	for f := range r.filled {
		r.total[f.b].Merge(f.h)
		f.h.Reset()
		r.spare <- f.h
	}
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
	if b != wk.b && wk.cur.Count() > 0 {
		r.filled <- filled{wk.b, wk.cur}
		wk.cur = <-r.spare
	}
	wk.b = b
	wk.cur.Record(int64(done - start))
}

// Finish stops the collector and returns the series of a window that
// lasted elapsed.
func (r *Recorder) Finish(elapsed time.Duration) *results.Series {
	close(r.filled)
	<-r.done
	s := &results.Series{BucketNs: int64(r.bucket), OK: make([]int64, r.n), P50: make([]int64, r.n), P99: make([]int64, r.n), Max: make([]int64, r.n)}
	s.LastNs = int64(elapsed - time.Duration(r.n-1)*r.bucket)
	if s.LastNs <= 0 {
		s.LastNs = int64(r.bucket)
	}
	var failed []int64
	for _, wk := range r.workers {
		r.total[wk.b].Merge(wk.cur)
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
