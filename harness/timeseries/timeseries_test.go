package timeseries

import (
	"context"
	"errors"
	"testing"
	"time"

	"rpcbench/harness/load"
	"rpcbench/target"
)

// A real closed-loop run through the load engine: every call the engine
// recorded is in exactly one bucket, each bucket of the window has calls,
// and each bucket's percentiles are ordered.
func TestSeriesOfALoadRun(t *testing.T) {
	conn, _ := target.Noop{}.Dial(context.Background())
	const window = 350 * time.Millisecond
	ts := New(window, 100*time.Millisecond, 4)
	res, err := load.Run(context.Background(), []target.Conn{conn}, load.Options{Workers: 4, Duration: window, OnCall: ts.OnCall})
	if err != nil {
		t.Fatal(err)
	}
	s := ts.Finish(res.Elapsed)
	if s.Len() != 4 || s.BucketNs != int64(100*time.Millisecond) {
		t.Fatalf("%d buckets of %d ns, want 4 of 100ms", s.Len(), s.BucketNs)
	}
	var sum int64
	for i := range s.Len() {
		sum += s.OK[i]
		if s.OK[i] == 0 || s.Throughput(i) <= 0 {
			t.Errorf("bucket %d: %d calls", i, s.OK[i])
		}
		if !(s.P50[i] > 0 && s.P50[i] <= s.P99[i] && s.P99[i] <= s.Max[i]) {
			t.Errorf("bucket %d: p50 %d p99 %d max %d", i, s.P50[i], s.P99[i], s.Max[i])
		}
	}
	if sum != res.Rec.Latency.Count() {
		t.Errorf("buckets hold %d calls, the engine recorded %d", sum, res.Rec.Latency.Count())
	}
	if last := time.Duration(s.LastNs); last < 50*time.Millisecond || last > 200*time.Millisecond {
		t.Errorf("last bucket %v long, want the window's last 50 ms plus the drain", last)
	}
}

// Synthetic calls: buckets by completion time, latency per bucket,
// failures counted apart, late completions in the last bucket.
func TestBuckets(t *testing.T) {
	ts := New(300*time.Millisecond, 100*time.Millisecond, 2)
	ms := time.Millisecond
	for i := range 100 {
		ts.OnCall(0, 10*ms, 10*ms+time.Duration(i+1)*time.Microsecond, nil) // bucket 0: 1–100 µs
		ts.OnCall(1, 150*ms, 150*ms+time.Duration(i+1)*time.Millisecond/10, nil)
	}
	ts.OnCall(0, 120*ms, 250*ms, nil) // bucket 2: 130 ms
	ts.OnCall(1, 200*ms, 400*ms, nil) // late: last bucket
	ts.OnCall(2, 0, 120*ms, errors.New("not sent"))
	s := ts.Finish(320 * ms)
	if want := []int64{100, 100, 2}; !equal(s.OK, want) {
		t.Errorf("ok %v, want %v", s.OK, want)
	}
	if want := []int64{0, 1, 0}; !equal(s.Failed, want) {
		t.Errorf("failed %v, want %v", s.Failed, want)
	}
	if p := s.P50[0]; p < 49_000 || p > 51_000 {
		t.Errorf("bucket 0 p50 %d ns, want 50 µs", p)
	}
	if p := s.P99[1]; p < 9_800_000 || p > 10_000_000 {
		t.Errorf("bucket 1 p99 %d ns, want 9.9 ms", p)
	}
	if s.Max[2] < 199*int64(ms) || s.LastNs != int64(120*ms) {
		t.Errorf("last bucket max %d, length %d", s.Max[2], s.LastNs)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MaxBuckets holds for any window: an hour gets longer buckets.
func TestLongWindow(t *testing.T) {
	ts := New(time.Hour, 100*time.Millisecond, 1)
	s := ts.Finish(time.Hour)
	if s.Len() != MaxBuckets || s.BucketNs != int64(6*time.Second) {
		t.Errorf("an hour: %d buckets of %v", s.Len(), time.Duration(s.BucketNs))
	}
}

// Recording allocates nothing, also when a worker's calls move into a new
// bucket: the window's allocation figures stay the calls'.
func TestOnCallAllocatesNothing(t *testing.T) {
	ts := New(100*time.Millisecond, time.Millisecond, 1)
	var done time.Duration
	allocs := testing.AllocsPerRun(2000, func() {
		done += 40 * time.Microsecond // a new bucket every 25th call
		ts.OnCall(0, done-50*time.Microsecond, done, nil)
	})
	s := ts.Finish(100 * time.Millisecond)
	// 2001 calls 40 µs apart end in bucket 80.
	if s.OK[79] != 25 || s.P50[79] == 0 {
		t.Fatalf("bucket 79: %d calls, p50 %d ns; want 25 calls and their latency", s.OK[79], s.P50[79])
	}
	if allocs != 0 {
		t.Errorf("%.2f allocations per call", allocs)
	}
}
