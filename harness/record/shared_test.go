package record

import (
	"sync"
	"testing"
)

// Every worker's calls reach the shared recorder, the partial last batch
// too, and failures are counted as they happen.
func TestSharedKeepsEveryCall(t *testing.T) {
	s := NewShared(true)
	const workers, calls = 8, 1000 // 1000 is not a multiple of batchSize
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			b := s.Batch()
			defer b.Flush()
			for i := range calls {
				b.OK(int64(1000*(w+1)+i), int64(i+1))
			}
			b.Fail("unavailable", "server gone", 5)
		})
	}
	wg.Wait()
	r := s.Recorder()
	if n := r.Latency.Count(); n != workers*calls {
		t.Errorf("latency count %d, want %d", n, workers*calls)
	}
	if n := r.Uncorrected.Count(); n != workers*calls {
		t.Errorf("uncorrected count %d, want %d", n, workers*calls)
	}
	if got, want := r.Latency.HDR().Max(), int64(1000*workers+calls-1); got < want*999/1000 || got > want*1001/1000 {
		t.Errorf("max %d, want %d within 0.1%%", got, want)
	}
	if r.Errors["unavailable"] != workers || r.FirstError["unavailable"] != "server gone" {
		t.Errorf("errors %v %v", r.Errors, r.FirstError)
	}
}

// Buffering allocates nothing: the client's allocation figures stay the
// calls'.
func TestBatchAllocatesNothing(t *testing.T) {
	b := NewShared(false).Batch()
	if a := testing.AllocsPerRun(1000, func() { b.OK(100, 100) }); a != 0 {
		t.Errorf("%.2f allocations per call", a)
	}
}
