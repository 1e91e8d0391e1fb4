package regserver_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/discovery"
	"rpcbench/discovery/memreg"
	"rpcbench/discovery/registrytest"
	"rpcbench/discovery/regserver"
	"rpcbench/transports/tcp"
)

// Goroutines started by package init (gnet's worker pool) are not leaks.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

func quiet() rpcbench.ServerOptions {
	return rpcbench.ServerOptions{Logf: func(string, ...any) {}}
}

func tcpT(t *testing.T) rpcbench.Transport {
	tr, err := tcp.New(tcp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func start(t *testing.T, addr string) *regserver.Server {
	t.Helper()
	s, err := regserver.Listen(tcpT(t), addr, quiet(), regserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, addr string) *regserver.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := regserver.Dial(ctx, tcpT(t), addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	registrytest.Run(t, func(t *testing.T) discovery.Registry { return dial(t, s.Addr().String()) },
		registrytest.Options{TTL: 300 * time.Millisecond, ExpirySlack: 500 * time.Millisecond})
}

func TestOpenByURL(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	ctx := context.Background()
	reg, err := discovery.Open(ctx, "rpcbench://"+s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	l, err := reg.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(ctx, l, discovery.Instance{Service: "S", Addr: "x:1"}); err != nil {
		t.Fatal(err)
	}
	// The same store, seen in process.
	if got, _ := s.Registry().Resolve(ctx, "S"); len(got) != 1 {
		t.Fatalf("registered over RPC, store has %v", got)
	}
	// A transport named in the scheme is looked up when the URL is opened.
	reg2, err := discovery.Open(ctx, "rpcbench+tcp://"+s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer reg2.Close()
	if got, err := reg2.Resolve(ctx, "S"); err != nil || len(got) != 1 {
		t.Fatalf("rpcbench+tcp: resolved %v, %v", got, err)
	}
	if _, err := discovery.Open(ctx, "rpcbench+nosuch://x"); err == nil || !strings.Contains(err.Error(), `unknown transport "nosuch"`) {
		t.Errorf("unknown transport scheme: %v", err)
	}
}

// A registry that restarts loses its leases; announced providers register
// again, and a watch that lived through the outage follows.
func TestRegistryRestart(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	addr := s.Addr().String()
	prov, cons := dial(t, addr), dial(t, addr)
	defer prov.Close()
	defer cons.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ttl := 600 * time.Millisecond
	a, err := discovery.Announce(ctx, prov, ttl, discovery.Instance{Service: "Arith", Addr: "p:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	ch, err := cons.Watch(ctx, "Arith")
	if err != nil {
		t.Fatal(err)
	}
	if u := <-ch; len(u.Instances) != 1 {
		t.Fatalf("first update %+v", u)
	}
	s.Close()
	time.Sleep(ttl / 2)
	s2 := start(t, addr)
	// The provider registers again (the consumer may or may not have seen
	// the empty registry in between: a watch reports changes, and the
	// final state equals the first), and the watch still follows: a new
	// instance reaches it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ := s2.Registry().Resolve(ctx, "Arith"); len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("provider not back after the registry restarted (heartbeat error: %v)", a.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	l, err := prov.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Register(ctx, l, discovery.Instance{Service: "Arith", Addr: "p:2"}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case u, ok := <-ch:
			if !ok {
				t.Fatal("watch closed by a registry restart")
			}
			if len(u.Instances) == 2 {
				if got, err := cons.Resolve(ctx, "Arith"); err != nil || !slices.EqualFunc(got, u.Instances, discovery.Instance.Equal) {
					t.Fatalf("Resolve after restart: %v, %v; watch has %v", got, err, u.Instances)
				}
				return
			}
		case <-time.After(time.Until(deadline)):
			t.Fatal("watch did not follow the restarted registry")
		}
	}
}

func startWith(t *testing.T, o regserver.Options) string {
	t.Helper()
	s, err := regserver.Listen(tcpT(t), "127.0.0.1:0", quiet(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Addr().String()
}

func dialToken(t *testing.T, addr, token string) *regserver.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := regserver.Dial(ctx, tcpT(t), addr, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawCall sends one registry request as JSON, as a hostile client would.
func rawCall(t *testing.T, addr, method string, req map[string]any) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tcpT(t), addr, rpcbench.ClientOptions{Codec: "json", HeartbeatInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var resp map[string]any
	err = c.Call(ctx, method, req, &resp)
	return resp, err
}

// TestLeasesOwned: a second client cannot renew, end or register with
// another's lease, even knowing its ID, nor take over its instance.
func TestLeasesOwned(t *testing.T) {
	addr := startWith(t, regserver.Options{})
	a, b := dialToken(t, addr, ""), dialToken(t, addr, "")
	ctx := context.Background()
	la, err := a.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mine := discovery.Instance{Service: "S", ID: "one", Addr: "a:1"}
	if err := a.Register(ctx, la, mine); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"KeepAlive":  b.KeepAlive(ctx, la),
		"Deregister": b.Deregister(ctx, la),
		"Register":   b.Register(ctx, la, discovery.Instance{Service: "S", ID: "two", Addr: "evil:1"}),
	} {
		if !errors.Is(err, discovery.ErrLeaseNotFound) {
			t.Errorf("%s of another client's lease: %v, want lease not found", name, err)
		}
	}
	lb, err := b.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Register(ctx, lb, discovery.Instance{Service: "S", ID: "one", Addr: "evil:1"}); err == nil || !strings.Contains(err.Error(), "held by another owner") {
		t.Errorf("re-registering another client's live instance: %v", err)
	}
	if got, err := b.Resolve(ctx, "S"); err != nil || len(got) != 1 || got[0].Addr != "a:1" {
		t.Fatalf("after the attempts: %+v, %v; want only a:1", got, err)
	}
	// The owner itself moves its instance between its leases, and once its
	// lease ends the ID is free.
	la2, _ := a.Grant(ctx, time.Minute)
	if err := a.Register(ctx, la2, discovery.Instance{Service: "S", ID: "one", Addr: "a:2"}); err != nil {
		t.Fatalf("owner moving its instance: %v", err)
	}
	if err := a.Deregister(ctx, la2); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(ctx, lb, discovery.Instance{Service: "S", ID: "one", Addr: "b:1"}); err != nil {
		t.Fatalf("registering a free ID: %v", err)
	}
}

// TestLeaseIDsUnguessable: IDs are not a counter; knowing one tells
// nothing of the next.
func TestLeaseIDsUnguessable(t *testing.T) {
	c := dialToken(t, startWith(t, regserver.Options{}), "")
	seen := map[discovery.LeaseID]bool{}
	var prev discovery.LeaseID
	high := 0
	for range 50 {
		l, err := c.Grant(context.Background(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		d := l - prev
		if seen[l] || l <= 0 || (d > -1000 && d < 1000) {
			t.Fatalf("lease %d after %d", l, prev)
		}
		if l > 1<<48 {
			high++
		}
		seen[l], prev = true, l
	}
	if high < 40 {
		t.Errorf("only %d of 50 lease IDs above 2^48: not drawn from 63 bits", high)
	}
}

func TestTTLBounds(t *testing.T) {
	addr := startWith(t, regserver.Options{})
	owner := "0123456789abcdef0123"
	for _, ms := range []float64{9e12, 0, -5, 1, 11 * 60 * 1000} {
		_, err := rawCall(t, addr, regserver.MethodGrant, map[string]any{"ttl_ms": ms, "owner": owner})
		if !errors.Is(err, &rpcbench.Error{Code: rpcbench.CodeBadRequest}) || !strings.Contains(err.Error(), "outside") {
			t.Errorf("TTL %vms: %v, want refused", ms, err)
		}
	}
	if r, err := rawCall(t, addr, regserver.MethodGrant, map[string]any{"ttl_ms": 1000, "owner": owner}); err != nil || r["lease"] == nil {
		t.Errorf("TTL 1s: %v, %v", r, err)
	}
	if _, err := rawCall(t, addr, regserver.MethodGrant, map[string]any{"ttl_ms": 1000}); err == nil || !strings.Contains(err.Error(), "owner key") {
		t.Errorf("grant without an owner: %v", err)
	}
}

func TestLeaseCaps(t *testing.T) {
	addr := startWith(t, regserver.Options{Limits: memreg.Limits{Leases: 5, PerOwner: 3}})
	ctx := context.Background()
	grants := func(c *regserver.Client, n int) (ok int, err error) {
		for range n {
			if _, err = c.Grant(ctx, time.Minute); err != nil {
				return ok, err
			}
			ok++
		}
		return ok, nil
	}
	a, b := dialToken(t, addr, ""), dialToken(t, addr, "")
	if n, err := grants(a, 4); n != 3 || !errors.Is(err, &rpcbench.Error{Code: rpcbench.CodeResourceExhausted}) {
		t.Errorf("one client: %d leases, then %v; want 3, then resource exhausted", n, err)
	}
	if n, err := grants(b, 3); n != 2 || !errors.Is(err, &rpcbench.Error{Code: rpcbench.CodeResourceExhausted}) {
		t.Errorf("second client: %d leases, then %v; want 2 (5 in all), then resource exhausted", n, err)
	}
}

func TestToken(t *testing.T) {
	const token = "registry-test-token"
	addr := startWith(t, regserver.Options{Token: token})
	ctx := context.Background()
	for _, bad := range []string{"", "wrong"} {
		c := dialToken(t, addr, bad)
		if _, err := c.Resolve(ctx, "S"); err == nil || !strings.Contains(err.Error(), "registry token") {
			t.Errorf("Resolve with token %q: %v", bad, err)
		}
		if _, err := c.Grant(ctx, time.Minute); err == nil || !strings.Contains(err.Error(), "registry token") {
			t.Errorf("Grant with token %q: %v", bad, err)
		}
	}
	c := dialToken(t, addr, token)
	l, err := c.Grant(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(ctx, l, discovery.Instance{Service: "S", Addr: "x:1"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(regserver.TokenEnv, token)
	reg, err := discovery.Open(ctx, "rpcbench://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if got, err := reg.Resolve(ctx, "S"); err != nil || len(got) != 1 {
		t.Fatalf("opened by URL with $%s: %v, %v", regserver.TokenEnv, got, err)
	}
	if _, err := discovery.Open(ctx, "rpcbench://"+addr+"?nosuch=1"); err == nil || !strings.Contains(err.Error(), "valid: tls") {
		t.Errorf("unknown URL parameter: %v", err)
	}
}
