package resilience

import (
	"testing"
	"time"

	"rpcbench"
	"rpcbench/harness/results"
)

var errTest = &rpcbench.Error{Code: rpcbench.CodeUnavailable, Message: "test"}

func TestErrorFreeAfter(t *testing.T) {
	const b = 100 * time.Millisecond
	fails := []int64{0, 0, 0, 4, 2, 0, 1, 0, 0, 0}
	for _, tc := range []struct {
		at     time.Duration
		settle int
		want   time.Duration
	}{
		{250 * time.Millisecond, 3, 450 * time.Millisecond}, // clean from bucket 7 (700ms)
		{350 * time.Millisecond, 1, 150 * time.Millisecond}, // bucket 5 is clean on its own
		{0, 2, 0}, // the fault's own bucket starts a clean stretch
		{650 * time.Millisecond, 3, 50 * time.Millisecond},
		{250 * time.Millisecond, 5, -1}, // no five clean buckets after the errors
	} {
		if got := errorFreeAfter(fails, b, tc.at, tc.settle); got != tc.want {
			t.Errorf("fault at %v, settle %d: %v, want %v", tc.at, tc.settle, got, tc.want)
		}
	}
}

// Calls land in the bucket and phase of their start; answers before the
// timeline starts (the warm-up) are not counted, late ones go to the last
// bucket.
func TestTimelineBuckets(t *testing.T) {
	tl := newTimeline(100*time.Millisecond, time.Second, 300*time.Millisecond, 600*time.Millisecond, 2, []string{"i1", "i2"})
	tl.onAttempt("i1", nil) // warm-up
	tl.start()
	tl.onCall(0, 50*time.Millisecond, 60*time.Millisecond, nil)
	tl.onCall(1, 350*time.Millisecond, 400*time.Millisecond, errTest)
	tl.onCall(2, 990*time.Millisecond, 1200*time.Millisecond, nil) // the pacer's slot
	tl.onAttempt("i2", nil)
	tl.onAttempt("i2", errTest)
	tl.onAttempt("nosuch", nil)
	var run results.ScenarioRun
	if err := tl.fill(&run); err != nil {
		t.Fatal(err)
	}
	if run.OK != 2 || run.Failed != 1 || run.OKs[0] != 1 || run.Fails[3] != 1 || run.OKs[9] != 1 {
		t.Fatalf("totals %d/%d, buckets ok %v failed %v", run.OK, run.Failed, run.OKs, run.Fails)
	}
	if run.Before.OK != 1 || run.During.Failed != 1 || run.After == nil || run.After.OK != 1 {
		t.Fatalf("phases %+v %+v %+v", run.Before, run.During, run.After)
	}
	if run.Served[0][0] != 0 || run.Served[1][0] != 1 {
		t.Fatalf("served %v", run.Served)
	}
	if run.FailedByCode["unavailable"] != 1 {
		t.Fatalf("codes %v", run.FailedByCode)
	}
}
