package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/balancer"
	"rpcbench/cluster"
	"rpcbench/discovery"
	"rpcbench/discovery/memreg"
	"rpcbench/internal/testbin"
	"rpcbench/transports/tcp"
)

// TestMain checks for leaked goroutines (those started by package init,
// such as gnet's worker pool, are not leaks) and removes the binary the
// process tests built.
func TestMain(m *testing.M) {
	ignore := goleak.IgnoreCurrent()
	code := m.Run()
	testbin.Cleanup()
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

type AddArgs struct{ A, B int }
type AddReply struct {
	Sum    int
	Server string
}

// provider is an in-process server of the "Test" service whose behaviour
// a test can change while it runs.
type provider struct {
	name string
	srv  *rpcbench.Server
	addr string
	ann  *discovery.Announcement

	runs  atomic.Int64 // handler executions
	fail  atomic.Int32 // if not 0, the handlers return this code
	delay atomic.Int64 // handler sleep, ns
}

func startProvider(t testing.TB, reg discovery.Registrar, name string, weight int) *provider {
	t.Helper()
	p := &provider{name: name, srv: rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})}
	rpcbench.Handle(p.srv, "Test.Add", func(ctx context.Context, a *AddArgs) (*AddReply, error) {
		p.runs.Add(1)
		if d := time.Duration(p.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if code := p.fail.Load(); code != 0 {
			return nil, rpcbench.Errorf(rpcbench.Code(code), "%s told to fail", name)
		}
		return &AddReply{Sum: a.A + a.B, Server: name}, nil
	})
	tr, _ := tcp.New(tcp.Options{})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	go p.srv.Serve(l)
	p.ann, err = discovery.Announce(context.Background(), reg, 5*time.Second,
		discovery.Instance{Service: "Test", ID: name, Addr: p.addr, Weight: weight})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return p
}

// stop deregisters and closes (idempotent).
func (p *provider) stop() {
	if p.ann != nil {
		p.ann.Stop(context.Background())
		p.ann = nil
	}
	p.srv.Close()
}

// kill closes the server but leaves its registration, as a crashed
// process does until its lease expires.
func (p *provider) kill() { p.srv.Close() }

func setup(t testing.TB, n int, opts cluster.Options) (*memreg.Registry, []*provider, *cluster.Client) {
	t.Helper()
	reg := memreg.New()
	t.Cleanup(func() { reg.Close() })
	var ps []*provider
	for i := range n {
		ps = append(ps, startProvider(t, reg, fmt.Sprintf("p%d", i), 1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts.MinInstances = n
	c, err := cluster.Dial(ctx, reg, "Test", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return reg, ps, c
}

func add(t *testing.T, c *cluster.Client, opts ...cluster.CallOption) (AddReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var r AddReply
	err := c.Call(ctx, "Test.Add", &AddArgs{A: 2, B: 3}, &r, opts...)
	if err == nil && r.Sum != 5 {
		t.Fatalf("sum %d from %s", r.Sum, r.Server)
	}
	return r, err
}

func attempts(c *cluster.Client) map[string]uint64 {
	out := map[string]uint64{}
	for _, s := range c.Instances() {
		out[s.ID] = s.Attempts
	}
	return out
}

func TestRoundRobinAcrossInstances(t *testing.T) {
	_, ps, c := setup(t, 3, cluster.Options{})
	for range 300 {
		if _, err := add(t, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		if p.runs.Load() != 100 {
			t.Errorf("%s ran %d of 300 calls, want 100", p.name, p.runs.Load())
		}
	}
	if got := attempts(c); got["p0"] != 100 || got["p1"] != 100 || got["p2"] != 100 {
		t.Errorf("per-instance attempts %v", got)
	}
}

func TestConsistentHashKeepsKeys(t *testing.T) {
	_, _, c := setup(t, 3, cluster.Options{Balancer: balancer.ConsistentHash})
	for k := range 20 {
		key := fmt.Sprint("user-", k)
		first, err := add(t, c, cluster.Key(key))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if r, _ := add(t, c, cluster.Key(key)); r.Server != first.Server {
				t.Fatalf("key %s went to %s then %s", key, first.Server, r.Server)
			}
		}
	}
}

// The client follows instances as they join and leave.
func TestFollowsJoinsAndLeaves(t *testing.T) {
	reg, ps, c := setup(t, 1, cluster.Options{})
	p1 := startProvider(t, reg, "p1", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitInstances(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		add(t, c)
	}
	if ps[0].runs.Load() == 0 || p1.runs.Load() == 0 {
		t.Fatalf("calls not spread after a join: p0 %d, p1 %d", ps[0].runs.Load(), p1.runs.Load())
	}
	ps[0].stop() // deregisters
	for deadline := time.Now().Add(5 * time.Second); c.Stats().Instances != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("instances %v after p0 left", c.Instances())
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := p1.runs.Load()
	for range 20 {
		if r, err := add(t, c); err != nil || r.Server != "p1" {
			t.Fatalf("after p0 left: %+v, %v", r, err)
		}
	}
	if p1.runs.Load() != before+20 {
		t.Errorf("p1 ran %d of 20 calls", p1.runs.Load()-before)
	}
}

// A dead instance still in the registry: idempotent calls fail over and
// none is lost; its breaker opens and keeps calls away.
func TestFailoverAndBreaker(t *testing.T) {
	_, ps, c := setup(t, 3, cluster.Options{
		Idempotent: []string{"Test.Add"},
		Breaker:    cluster.BreakerOptions{Failures: 2, Cooldown: time.Hour},
	})
	for range 30 {
		add(t, c) // connect to all
	}
	ps[1].kill()
	var wg sync.WaitGroup
	var lost atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := add(t, c); err != nil {
					lost.Add(1)
					t.Errorf("call lost: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if lost.Load() > 0 {
		return
	}
	var dead cluster.InstanceStats
	for _, s := range c.Instances() {
		if s.ID == "p1" {
			dead = s
		}
	}
	if dead.Breaker != "open" || dead.Failures < 2 || dead.Failures > 6 {
		t.Errorf("dead instance: %+v; want its breaker open after about 2 failures", dead)
	}
	if st := c.Stats(); st.Failed != 0 || st.Retries == 0 {
		t.Errorf("stats %+v", st)
	}
}

// A call that may have run is not retried unless declared idempotent; a
// call that never reached a server fails over whatever its method.
func TestRetriesOnlyIdempotent(t *testing.T) {
	_, ps, c := setup(t, 2, cluster.Options{Breaker: cluster.BreakerOptions{Failures: -1}})
	ps[0].fail.Store(int32(rpcbench.CodeUnavailable))
	ps[1].fail.Store(int32(rpcbench.CodeUnavailable))
	_, err := add(t, c)
	var ce *cluster.CallError
	if !errors.As(err, &ce) || ce.Attempts != 1 || !strings.Contains(ce.Reason, "not declared idempotent") {
		t.Fatalf("non-idempotent call: %v, want one attempt and a reason", err)
	}
	if !errors.Is(err, rpcbench.ErrUnavailable) || rpcbench.CodeOf(err) != rpcbench.CodeUnavailable {
		t.Errorf("code of %v lost", err)
	}
	if runs := ps[0].runs.Load() + ps[1].runs.Load(); runs != 1 {
		t.Fatalf("non-idempotent call ran %d times", runs)
	}
	// Declared idempotent: retried up to MaxAttempts (3), over both.
	_, err = add(t, c, cluster.Idempotent())
	if !errors.As(err, &ce) || ce.Attempts != 3 || ce.Reason != "attempts exhausted" {
		t.Fatalf("idempotent call: %v", err)
	}
	// One instance recovers: idempotent calls succeed via failover.
	ps[1].fail.Store(0)
	for range 10 {
		if r, err := add(t, c, cluster.Idempotent()); err != nil || r.Server != "p1" {
			t.Fatalf("failover: %+v, %v", r, err)
		}
	}
	// An application error is the answer, returned as it came.
	ps[0].fail.Store(int32(rpcbench.CodeApplication))
	ps[1].fail.Store(int32(rpcbench.CodeApplication))
	if _, err := add(t, c, cluster.Idempotent()); !errors.As(err, new(*rpcbench.Error)) || errors.As(err, &ce) {
		t.Fatalf("application error: %v (%T)", err, err)
	}
	// A dead instance refuses connections: nothing was sent, so even a
	// non-idempotent call fails over.
	ps[0].fail.Store(0)
	ps[1].fail.Store(0)
	ps[0].kill()
	// A call sent on p0's connection as it broke may have reached p0 and
	// is rightly not retried; give the client a moment to see the
	// connection close, after which p0 refuses new ones.
	time.Sleep(100 * time.Millisecond)
	for range 10 {
		if r, err := add(t, c); err != nil || r.Server != "p1" {
			t.Fatalf("non-idempotent call with a dead instance: %+v, %v", r, err)
		}
	}
}

func TestNoInstance(t *testing.T) {
	reg := memreg.New()
	defer reg.Close()
	c, err := cluster.Dial(context.Background(), reg, "Nobody", cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Call(context.Background(), "Nobody.Add", &AddArgs{}, nil)
	if rpcbench.CodeOf(err) != rpcbench.CodeUnavailable || !strings.Contains(err.Error(), "no instance of Nobody is registered") {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := cluster.Dial(ctx, reg, "Nobody", cluster.Options{MinInstances: 1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial waiting for an instance: %v", err)
	}
}

func TestAllBreakersOpen(t *testing.T) {
	_, ps, c := setup(t, 2, cluster.Options{
		Idempotent: []string{"Test.Add"},
		Breaker:    cluster.BreakerOptions{Failures: 1, Cooldown: 200 * time.Millisecond},
	})
	ps[0].fail.Store(int32(rpcbench.CodeResourceExhausted))
	ps[1].fail.Store(int32(rpcbench.CodeResourceExhausted))
	add(t, c)
	_, err := add(t, c)
	if !strings.Contains(err.Error(), "all 2 instances of Test are unavailable (circuit breaker open on 2)") {
		t.Fatalf("got %v", err)
	}
	// After the cooldown a probe goes through and closes the breaker.
	ps[0].fail.Store(0)
	ps[1].fail.Store(0)
	time.Sleep(250 * time.Millisecond)
	for range 4 {
		if _, err := add(t, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range c.Instances() {
		if s.Breaker != "closed" {
			t.Errorf("%s: breaker %s after successful probes", s.ID, s.Breaker)
		}
	}
}

// Retries stop at the budget: a dead service gets little more than its
// normal load.
func TestRetryBudgetBoundsRetries(t *testing.T) {
	_, ps, c := setup(t, 2, cluster.Options{
		Idempotent: []string{"Test.Add"},
		Retry:      cluster.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond},
		Budget:     cluster.BudgetOptions{Ratio: 0.1, MinPerSecond: -1, Burst: 5},
		Breaker:    cluster.BreakerOptions{Failures: -1},
	})
	for _, p := range ps {
		p.fail.Store(int32(rpcbench.CodeUnavailable))
	}
	budgetErrs := 0
	for range 200 {
		_, err := add(t, c)
		var ce *cluster.CallError
		if errors.As(err, &ce) && ce.Reason == "retry budget exhausted" {
			budgetErrs++
		}
	}
	st := c.Stats()
	// 200 calls earn 20 retries, plus the burst of 5.
	if st.Retries > 25 || st.Attempts > 225 {
		t.Errorf("stats %+v: retries beyond the budget", st)
	}
	if budgetErrs < 150 || st.BudgetDenied == 0 {
		t.Errorf("%d calls stopped by the budget (stats %+v)", budgetErrs, st)
	}
}

// A slow instance: hedged calls finish at the fast one's speed, and the
// reply is the hedge's.
func TestHedging(t *testing.T) {
	_, ps, c := setup(t, 2, cluster.Options{
		Idempotent: []string{"Test.Add"},
		Hedge:      cluster.HedgePolicy{Delay: 20 * time.Millisecond},
	})
	ps[0].delay.Store(int64(2 * time.Second))
	for range 10 {
		start := time.Now()
		r, err := add(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Server != "p1" || time.Since(start) > time.Second {
			t.Fatalf("hedged call answered by %s after %v", r.Server, time.Since(start))
		}
	}
	if st := c.Stats(); st.Hedges == 0 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	// Hedging off for one call: it waits for the slow instance or its
	// deadline, which it reports.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	for range 2 { // one of the two goes to the slow instance
		var r AddReply
		if err = c.Call(ctx, "Test.Add", &AddArgs{}, &r, cluster.HedgeAfter(0)); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) || rpcbench.CodeOf(err) != rpcbench.CodeDeadlineExceeded {
		t.Fatalf("unhedged call to the slow instance: %v", err)
	}
}

func TestCloseFailsCalls(t *testing.T) {
	_, ps, c := setup(t, 1, cluster.Options{})
	ps[0].delay.Store(int64(time.Second))
	done := make(chan error)
	go func() { _, err := add(t, c); done <- err }()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := <-done; rpcbench.CodeOf(err) != rpcbench.CodeUnavailable {
		t.Fatalf("call in flight at Close: %v", err)
	}
	if _, err := add(t, c); !strings.Contains(fmt.Sprint(err), "client closed") {
		t.Fatalf("call after Close: %v", err)
	}
}
