package load

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/target"
)

// stallTarget answers at once, except that the first call after stallAt
// holds a server-wide lock for stallFor: every call in flight or arriving
// meanwhile waits, as when a server pauses.
type stallTarget struct {
	mu       sync.Mutex
	start    time.Time
	stallAt  time.Duration
	stallFor time.Duration
	stalled  bool
}

func (s *stallTarget) Dial(context.Context) (target.Conn, error) { return s, nil }
func (s *stallTarget) Close() error                              { return nil }
func (s *stallTarget) NewCaller() (target.Caller, error) {
	return func(context.Context) error {
		s.mu.Lock()
		if !s.stalled && time.Since(s.start) >= s.stallAt {
			s.stalled = true
			time.Sleep(s.stallFor)
		}
		s.mu.Unlock()
		return nil
	}, nil
}

// TestCoordinatedOmission checks the correction against theory. At rate R
// for D seconds with one stall of S, the S·R calls intended during the stall
// wait for its end, so their corrected latencies are spread evenly over
// [0, S]: the top fraction q < S/D of all calls is at least S − q·D. The
// uncorrected latency sees the stall only in the few calls in flight when
// it began, so its p99 stays near the service time.
func TestCoordinatedOmission(t *testing.T) {
	const (
		rate  = 2000.0
		dur   = time.Second
		stall = 200 * time.Millisecond
	)
	tgt := &stallTarget{stallAt: 300 * time.Millisecond, stallFor: stall}
	conn, _ := tgt.Dial(context.Background())
	tgt.start = time.Now()
	res, err := Run(context.Background(), []target.Conn{conn}, Options{Workers: 8, Open: true, Rate: rate, Duration: dur})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rec.ErrorCount() != 0 {
		t.Fatalf("errors: %v", res.Rec.Errors)
	}
	if got, want := res.Open.Scheduled, int64(rate*dur.Seconds()); got != want {
		t.Errorf("scheduled %d calls, want %d", got, want)
	}
	// Generous for a shared, noisy machine: an OS stall of the test
	// process shifts these by its length.
	tol := 25 * time.Millisecond
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.99, stall - time.Duration(0.01*float64(dur))}, {0.95, stall - time.Duration(0.05*float64(dur))}, {0.9, stall - time.Duration(0.1*float64(dur))}} {
		got := time.Duration(res.Rec.Latency.Quantile(c.q))
		if got < c.want-tol || got > c.want+tol {
			t.Errorf("corrected p%v = %v, want %v ± %v", c.q*100, got, c.want, tol)
		}
	}
	if max := time.Duration(res.Rec.Latency.Summary().Max); max < stall-tol || max > stall+tol {
		t.Errorf("corrected max = %v, want about %v", max, stall)
	}
	if p99 := time.Duration(res.Rec.Uncorrected.Quantile(0.99)); p99 > stall/5 {
		t.Errorf("uncorrected p99 = %v, want it low (the stall hits only the calls in flight)", p99)
	}
	if max := time.Duration(res.Rec.Uncorrected.Summary().Max); max < stall-tol {
		t.Errorf("uncorrected max = %v, want the stall %v", max, stall)
	}
}

// TestClosedLoopHidesStall shows the omission the open loop corrects: in
// closed loop the stall is one slow call per worker.
func TestClosedLoopHidesStall(t *testing.T) {
	tgt := &stallTarget{stallAt: 100 * time.Millisecond, stallFor: 100 * time.Millisecond}
	conn, _ := tgt.Dial(context.Background())
	tgt.start = time.Now()
	res, err := Run(context.Background(), []target.Conn{conn}, Options{Workers: 2, Duration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Open != nil || res.Rec.Uncorrected != nil {
		t.Fatal("closed loop recorded open-loop figures")
	}
	if p99 := time.Duration(res.Rec.Latency.Quantile(0.99)); p99 > 30*time.Millisecond {
		t.Errorf("closed-loop p99 = %v: the stall should be hidden in a few calls", p99)
	}
	if res.Calls < 100 {
		t.Errorf("only %d calls", res.Calls)
	}
}

func TestCallCountAndErrors(t *testing.T) {
	var mu sync.Mutex
	n := 0
	tgt := callerFunc(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%10 == 0 {
			return &rpcbench.Error{Code: rpcbench.CodeUnavailable, Message: "down"}
		}
		if n%25 == 0 {
			return errors.New("plain")
		}
		return nil
	})
	for _, open := range []bool{false, true} {
		n = 0
		res, err := Run(context.Background(), []target.Conn{tgt, tgt}, Options{Workers: 4, Calls: 200, Open: open, Rate: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Calls != 200 || res.Rec.Latency.Count() != 200-20-4 {
			t.Errorf("open=%v: calls %d ok %d", open, res.Calls, res.Rec.Latency.Count())
		}
		if res.Rec.Errors["unavailable"] != 20 || res.Rec.Errors["unknown"] != 4 || res.Rec.ErrLatency.Count() != 24 {
			t.Errorf("open=%v: errors %v", open, res.Rec.Errors)
		}
	}
}

func TestPoissonSchedule(t *testing.T) {
	o := Options{Open: true, Poisson: true, Rate: 1000, Duration: time.Second}
	o.fill()
	next := schedule(&o)
	n := 0
	for next() < 100*time.Second {
		n++
	}
	if n < 97000 || n > 103000 {
		t.Errorf("%d arrivals in 100 s at 1000/s", n)
	}
}

func TestHardDeadlineCountsUnsent(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	tgt := callerFunc(func(ctx context.Context) error {
		select {
		case <-block:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	res, err := Run(context.Background(), []target.Conn{tgt}, Options{Workers: 1, Open: true, Rate: 1000, Duration: 100 * time.Millisecond, Grace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rec.Errors["deadline_exceeded"] != 1 || res.Open.Unsent != 99 || res.Open.Scheduled != 100 {
		t.Errorf("errors %v, unsent %d of %d", res.Rec.Errors, res.Open.Unsent, res.Open.Scheduled)
	}
}

type callerFunc func(context.Context) error

func (f callerFunc) NewCaller() (target.Caller, error) { return target.Caller(f), nil }
func (f callerFunc) Close() error                      { return nil }

// OnCall sees every scheduled call once, from its worker, with its start
// inside the run.
func TestOnCallSeesEveryCall(t *testing.T) {
	var seen [5]int64 // per worker, the last one the pacer's
	var late atomic.Int64
	conn, _ := target.Noop{}.Dial(context.Background())
	res, err := Run(context.Background(), []target.Conn{conn}, Options{
		Workers: 4, Open: true, Rate: 2000, Duration: 200 * time.Millisecond,
		OnCall: func(w int, start, done time.Duration, err error) {
			seen[w]++
			if start >= 200*time.Millisecond || done < start || err != nil {
				late.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range seen {
		n += v
	}
	if n != res.Open.Scheduled || n == 0 || late.Load() != 0 {
		t.Fatalf("OnCall saw %d calls (%d odd) of %d scheduled", n, late.Load(), res.Open.Scheduled)
	}
}
