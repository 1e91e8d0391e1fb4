package results

// Series is what happened inside one measured window, bucket by bucket
// (100 ms by default, from the window's start): calls completed OK and
// failed, and the latency percentiles of the OK calls that completed in
// the bucket, from per-bucket HdrHistograms of two significant digits
// (1%). Warm-up, GC pauses and stalls show up here, not in the window's
// summary. The last bucket is LastNs long (the window's elapsed time
// includes the drain of calls in flight at its end).
type Series struct {
	BucketNs int64   `json:"bucket_ns"`
	LastNs   int64   `json:"last_ns"`
	OK       []int64 `json:"ok"`
	Failed   []int64 `json:"failed,omitempty"`
	P50      []int64 `json:"p50_ns"`
	P99      []int64 `json:"p99_ns"`
	Max      []int64 `json:"max_ns"`
}

// Len is the number of buckets.
func (s *Series) Len() int { return len(s.OK) }

// Throughput is bucket i's rate of OK calls per second.
func (s *Series) Throughput(i int) float64 {
	d := s.BucketNs
	if i == len(s.OK)-1 && s.LastNs > 0 {
		d = s.LastNs
	}
	if d <= 0 {
		return 0
	}
	return float64(s.OK[i]) / (float64(d) / 1e9)
}
