package regserver_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/discovery"
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
	s, err := regserver.Listen(tcpT(t), addr, quiet())
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
	c, err := regserver.Dial(ctx, tcpT(t), addr)
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
