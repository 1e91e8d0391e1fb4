package cluster

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBreakerTransitions(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := &breaker{opts: &BreakerOptions{Failures: 3, Cooldown: time.Second, Probes: 1}, now: clk.now}
	admit := func(want bool, wantProbe bool) bool {
		t.Helper()
		ok, probe := b.allow()
		if ok != want || probe != wantProbe {
			t.Fatalf("allow() in %v = %v, probe %v; want %v, probe %v", b.State(), ok, probe, want, wantProbe)
		}
		return probe
	}
	expect := func(s BreakerState) {
		t.Helper()
		if b.State() != s {
			t.Fatalf("state %v, want %v", b.State(), s)
		}
	}

	// Closed: failures in a row open it; a success in between resets.
	admit(true, false)
	b.record(failure, false)
	b.record(failure, false)
	b.record(success, false)
	b.record(failure, false)
	b.record(neutral, false) // an application error says nothing
	b.record(failure, false)
	expect(Closed)
	b.record(failure, false)
	expect(Open)
	if b.opened.Load() != 1 {
		t.Fatalf("opened %d times", b.opened.Load())
	}

	// Open: no calls until the cooldown has passed.
	if b.ready() {
		t.Fatal("open breaker ready")
	}
	admit(false, false)
	clk.advance(999 * time.Millisecond)
	admit(false, false)
	// Late results of calls admitted before it opened change nothing.
	b.record(success, false)
	expect(Open)

	// Half-open: one probe at a time.
	clk.advance(time.Millisecond)
	if !b.ready() {
		t.Fatal("breaker not ready after its cooldown")
	}
	p := admit(true, true)
	expect(HalfOpen)
	admit(false, false)
	if b.ready() {
		t.Fatal("half-open breaker with its probe out reports ready")
	}
	// A probe that says nothing frees the slot without deciding.
	b.record(neutral, p)
	expect(HalfOpen)
	p = admit(true, true)
	// A failed probe opens it again for another cooldown.
	b.record(failure, p)
	expect(Open)
	admit(false, false)
	clk.advance(time.Second)
	p = admit(true, true)
	// A successful probe closes it, with a fresh failure count.
	b.record(success, p)
	expect(Closed)
	admit(true, false)
	b.record(failure, false)
	b.record(failure, false)
	expect(Closed)
	if b.opened.Load() != 2 {
		t.Fatalf("opened %d times, want 2", b.opened.Load())
	}
}

func TestBreakerDisabled(t *testing.T) {
	b := &breaker{opts: &BreakerOptions{Failures: -1}, now: time.Now}
	for range 100 {
		b.record(failure, false)
	}
	if ok, _ := b.allow(); !ok || b.State() != Closed {
		t.Fatal("a disabled breaker opened")
	}
}

func TestRetryBudget(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := newRetryBudget(BudgetOptions{Ratio: 0.1, MinPerSecond: 2, Burst: 3}, clk.now)
	take := func() int {
		n := 0
		for b.withdraw() {
			n++
		}
		return n
	}
	if n := take(); n != 3 {
		t.Fatalf("a new budget allowed %d retries, want its burst of 3", n)
	}
	// 100 calls earn 10 retries, but no more than the burst is kept.
	for range 100 {
		b.deposit()
	}
	if n := take(); n != 3 {
		t.Fatalf("after 100 calls: %d retries, want 3 (capped)", n)
	}
	for range 20 {
		b.deposit()
	}
	if n := take(); n != 2 {
		t.Fatalf("after 20 calls: %d retries, want 2", n)
	}
	// Time alone refills MinPerSecond.
	clk.advance(time.Second)
	if n := take(); n != 2 {
		t.Fatalf("after 1s: %d retries, want 2", n)
	}
	if b.denied.Load() != 4 {
		t.Fatalf("denied %d, want 4", b.denied.Load())
	}
	b.refund()
	if n := take(); n != 1 {
		t.Fatalf("after a refund: %d", n)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	c := &Client{opts: Options{Retry: RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond, Jitter: 0.5}}}
	for round, want := range []time.Duration{10, 20, 40, 80, 80} {
		want *= time.Millisecond
		for range 50 {
			d := c.backoff(round + 1)
			if d > want || d < want/2 {
				t.Fatalf("round %d: backoff %v, want in [%v, %v]", round+1, d, want/2, want)
			}
		}
	}
}
