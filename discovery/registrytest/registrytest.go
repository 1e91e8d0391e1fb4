// Package registrytest is the conformance suite every discovery backend
// runs against a real instance of itself: leases, expiry, deregistration,
// watches and Announce.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"rpcbench/discovery"
)

// Options tune the suite to a backend.
type Options struct {
	// TTL is the short lease TTL the expiry tests use; it must be one the
	// backend honours (etcd rounds to whole seconds).
	TTL time.Duration
	// ExpirySlack is how long after TTL an unrenewed lease may still be
	// visible (etcd checks expiry every 500ms and revokes through raft).
	ExpirySlack time.Duration
}

// Run runs the suite. newReg returns a registry for one subtest; each
// subtest uses its own service names, so the registries may share a
// backend, and closes what it was given.
func Run(t *testing.T, newReg func(t *testing.T) discovery.Registry, o Options) {
	if o.TTL <= 0 {
		o.TTL = 300 * time.Millisecond
	}
	if o.ExpirySlack <= 0 {
		o.ExpirySlack = 2 * time.Second
	}
	tests := []struct {
		name string
		fn   func(*testing.T, discovery.Registry, string, Options)
	}{
		{"RegisterResolve", testRegisterResolve},
		{"Deregister", testDeregister},
		{"LeaseExpiry", testLeaseExpiry},
		{"KeepAliveExtends", testKeepAliveExtends},
		{"Replace", testReplace},
		{"WatchJoinsAndLeaves", testWatch},
		{"WatchEnds", testWatchEnds},
		{"Announce", testAnnounce},
		{"AnnounceRegistersAgain", testAnnounceAgain},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newReg(t)
			t.Cleanup(func() { reg.Close() })
			tc.fn(t, reg, fmt.Sprintf("S%d%d", i, time.Now().UnixNano()%1e6), o)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func grant(t *testing.T, reg discovery.Registry, ttl time.Duration) discovery.LeaseID {
	t.Helper()
	id, err := reg.Grant(ctxT(t), ttl)
	if err != nil {
		t.Fatalf("Grant(%v): %v", ttl, err)
	}
	return id
}

func register(t *testing.T, reg discovery.Registry, lease discovery.LeaseID, in discovery.Instance) {
	t.Helper()
	if err := reg.Register(ctxT(t), lease, in); err != nil {
		t.Fatalf("Register(%v, %+v): %v", lease, in, err)
	}
}

// ids lists the instances' IDs.
func ids(insts []discovery.Instance) []string {
	out := []string{}
	for _, in := range insts {
		out = append(out, in.ID)
	}
	return out
}

func resolveIDs(t *testing.T, reg discovery.Registry, svc string) []string {
	t.Helper()
	insts, err := reg.Resolve(ctxT(t), svc)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", svc, err)
	}
	return ids(insts)
}

// eventually polls Resolve until it returns want or the deadline passes.
func eventually(t *testing.T, reg discovery.Registry, svc string, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := resolveIDs(t, reg, svc)
		if slices.Equal(got, want) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("Resolve(%q) = %q after %v, want %q", svc, got, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testRegisterResolve(t *testing.T, reg discovery.Registry, svc string, _ Options) {
	l := grant(t, reg, 30*time.Second)
	register(t, reg, l, discovery.Instance{Service: svc, Addr: "127.0.0.1:2", Metadata: map[string]string{"zone": "b"}})
	register(t, reg, l, discovery.Instance{Service: svc, Addr: "127.0.0.1:1", Transport: "udp", Codec: "proto", Weight: 3})
	register(t, reg, l, discovery.Instance{Service: svc + "x", Addr: "127.0.0.1:3"})
	got, err := reg.Resolve(ctxT(t), svc)
	if err != nil {
		t.Fatal(err)
	}
	want := []discovery.Instance{
		{Service: svc, ID: "tcp://127.0.0.1:2", Addr: "127.0.0.1:2", Transport: "tcp", Weight: 1, Metadata: map[string]string{"zone": "b"}},
		{Service: svc, ID: "udp://127.0.0.1:1", Addr: "127.0.0.1:1", Transport: "udp", Codec: "proto", Weight: 3},
	}
	if len(got) != len(want) {
		t.Fatalf("Resolve = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("instance %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := resolveIDs(t, reg, svc+"x"); !slices.Equal(got, []string{"tcp://127.0.0.1:3"}) {
		t.Errorf("other service: %q", got)
	}
	if got := resolveIDs(t, reg, svc+"-none"); len(got) != 0 {
		t.Errorf("unknown service: %q, want none", got)
	}
	if err := reg.Register(ctxT(t), l, discovery.Instance{Addr: "x"}); err == nil {
		t.Error("instance without a service accepted")
	}
	// Other tests may share the registry: check only this test's names.
	lister, ok := reg.(discovery.Lister)
	if !ok {
		t.Fatalf("%T does not list its services (discovery.Lister)", reg)
	}
	names, err := lister.Services(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, svc) || !slices.Contains(names, svc+"x") || slices.Contains(names, svc+"-none") || !slices.IsSorted(names) {
		t.Errorf("Services() = %q, want %s and %sx among them, sorted", names, svc, svc)
	}
}

func testDeregister(t *testing.T, reg discovery.Registry, svc string, _ Options) {
	ctx := ctxT(t)
	l1, l2 := grant(t, reg, 30*time.Second), grant(t, reg, 30*time.Second)
	register(t, reg, l1, discovery.Instance{Service: svc, Addr: "a:1"})
	register(t, reg, l1, discovery.Instance{Service: svc, Addr: "a:2"})
	register(t, reg, l2, discovery.Instance{Service: svc, Addr: "b:1"})
	if err := reg.Deregister(ctx, l1); err != nil {
		t.Fatal(err)
	}
	if got := resolveIDs(t, reg, svc); !slices.Equal(got, []string{"tcp://b:1"}) {
		t.Fatalf("after deregistering lease 1: %q, want only b:1", got)
	}
	for name, err := range map[string]error{
		"Deregister": reg.Deregister(ctx, l1),
		"KeepAlive":  reg.KeepAlive(ctx, l1),
		"Register":   reg.Register(ctx, l1, discovery.Instance{Service: svc, Addr: "a:3"}),
	} {
		if !errors.Is(err, discovery.ErrLeaseNotFound) {
			t.Errorf("%s on an ended lease: %v, want ErrLeaseNotFound", name, err)
		}
	}
}

func testLeaseExpiry(t *testing.T, reg discovery.Registry, svc string, o Options) {
	// The lease's clock starts at the server, somewhere inside the Grant
	// call: only a time taken before the call bounds its expiry from below.
	start := time.Now()
	l := grant(t, reg, o.TTL)
	keep := grant(t, reg, 30*time.Second)
	register(t, reg, l, discovery.Instance{Service: svc, Addr: "a:1"})
	register(t, reg, keep, discovery.Instance{Service: svc, Addr: "b:1"})
	eventually(t, reg, svc, []string{"tcp://b:1"}, o.TTL+o.ExpirySlack)
	if gone := time.Since(start); gone < o.TTL {
		t.Errorf("lease of TTL %v expired after %v", o.TTL, gone)
	}
	if err := reg.KeepAlive(ctxT(t), l); !errors.Is(err, discovery.ErrLeaseNotFound) {
		t.Errorf("KeepAlive on an expired lease: %v, want ErrLeaseNotFound", err)
	}
}

func testKeepAliveExtends(t *testing.T, reg discovery.Registry, svc string, o Options) {
	l := grant(t, reg, o.TTL)
	register(t, reg, l, discovery.Instance{Service: svc, Addr: "a:1"})
	end := time.Now().Add(2*o.TTL + o.ExpirySlack/2)
	for time.Now().Before(end) {
		if err := reg.KeepAlive(ctxT(t), l); err != nil {
			t.Fatalf("KeepAlive: %v", err)
		}
		time.Sleep(o.TTL / 4)
	}
	if got := resolveIDs(t, reg, svc); len(got) != 1 {
		t.Fatalf("a renewed lease lost its instance: %q", got)
	}
}

func testReplace(t *testing.T, reg discovery.Registry, svc string, _ Options) {
	l1, l2 := grant(t, reg, 30*time.Second), grant(t, reg, 30*time.Second)
	register(t, reg, l1, discovery.Instance{Service: svc, ID: "one", Addr: "a:1"})
	register(t, reg, l2, discovery.Instance{Service: svc, ID: "one", Addr: "a:2", Weight: 5})
	insts, err := reg.Resolve(ctxT(t), svc)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || insts[0].Addr != "a:2" || insts[0].Weight != 5 {
		t.Fatalf("after re-registering ID one: %+v", insts)
	}
	// The instance now belongs to lease 2: ending lease 1 leaves it.
	if err := reg.Deregister(ctxT(t), l1); err != nil && !errors.Is(err, discovery.ErrLeaseNotFound) {
		t.Fatal(err)
	}
	if got := resolveIDs(t, reg, svc); !slices.Equal(got, []string{"one"}) {
		t.Fatalf("ending the old lease removed the replaced instance: %q", got)
	}
}

// watcher accumulates a watch's updates.
type watcher struct {
	t  *testing.T
	ch <-chan discovery.Update
}

// next waits for updates until the set equals want, and returns the joins
// and leaves seen on the way.
func (w watcher) until(want []string, within time.Duration) (joined, left []string) {
	w.t.Helper()
	timeout := time.After(within)
	var last []string
	for {
		select {
		case u, ok := <-w.ch:
			if !ok {
				w.t.Fatalf("watch closed waiting for %q (last %q)", want, last)
			}
			joined = append(joined, ids(u.Joined)...)
			left = append(left, ids(u.Left)...)
			if last = ids(u.Instances); slices.Equal(last, want) {
				return joined, left
			}
		case <-timeout:
			w.t.Fatalf("watch: no update with %q within %v (last %q)", want, within, last)
		}
	}
}

func testWatch(t *testing.T, reg discovery.Registry, svc string, o Options) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	l1, l2 := grant(t, reg, 30*time.Second), grant(t, reg, o.TTL)
	register(t, reg, l1, discovery.Instance{Service: svc, ID: "pre", Addr: "p:1"})
	ch, err := reg.Watch(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	w := watcher{t, ch}
	wait := 5 * time.Second
	select {
	case u := <-ch:
		if !slices.Equal(ids(u.Instances), []string{"pre"}) || !slices.Equal(ids(u.Joined), []string{"pre"}) || len(u.Left) != 0 {
			t.Fatalf("first update %+v: want the current set, all joined", u)
		}
	case <-time.After(wait):
		t.Fatal("no first update")
	}
	register(t, reg, l1, discovery.Instance{Service: svc, ID: "a", Addr: "a:1"})
	if j, l := w.until([]string{"a", "pre"}, wait); !slices.Equal(j, []string{"a"}) || len(l) != 0 {
		t.Errorf("join a: joined %q left %q", j, l)
	}
	register(t, reg, l2, discovery.Instance{Service: svc, ID: "b", Addr: "b:1"})
	w.until([]string{"a", "b", "pre"}, wait)
	register(t, reg, l1, discovery.Instance{Service: svc, ID: "a", Addr: "a:1", Weight: 7})
	for {
		j, _ := w.until([]string{"a", "b", "pre"}, wait)
		if slices.Contains(j, "a") {
			break // the changed instance is reported as joined again
		}
	}
	if err := reg.Deregister(ctx, l1); err != nil {
		t.Fatal(err)
	}
	if j, l := w.until([]string{"b"}, wait); len(j) != 0 || !slices.Equal(l, []string{"a", "pre"}) {
		t.Errorf("deregister: joined %q left %q", j, l)
	}
	// b's lease is not renewed: it leaves by expiry.
	if j, l := w.until([]string{}, o.TTL+o.ExpirySlack+wait); len(j) != 0 || !slices.Equal(l, []string{"b"}) {
		t.Errorf("expiry: joined %q left %q", j, l)
	}
	// Another service's changes are not this watch's business.
	l3 := grant(t, reg, 30*time.Second)
	register(t, reg, l3, discovery.Instance{Service: svc + "other", Addr: "o:1"})
	select {
	case u := <-ch:
		t.Errorf("update for another service's change: %+v", u)
	case <-time.After(200 * time.Millisecond):
	}
}

func testWatchEnds(t *testing.T, reg discovery.Registry, svc string, _ Options) {
	ctx, cancel := context.WithCancel(ctxT(t))
	ch, err := reg.Watch(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				goto closed
			}
		case <-deadline:
			t.Fatal("watch channel not closed after its context ended")
		}
	}
closed:
	ch, err = reg.Watch(ctxT(t), svc)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	reg.Close()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed after the registry was closed")
	}
}

func testAnnounce(t *testing.T, reg discovery.Registry, svc string, o Options) {
	a, err := discovery.Announce(ctxT(t), reg, o.TTL,
		discovery.Instance{Service: svc, Addr: "a:1"}, discovery.Instance{Service: svc + "x", Addr: "a:1"})
	if err != nil {
		t.Fatal(err)
	}
	// Heartbeats keep it past several TTLs.
	time.Sleep(2*o.TTL + o.ExpirySlack/2)
	if got := resolveIDs(t, reg, svc); !slices.Equal(got, []string{"tcp://a:1"}) {
		t.Fatalf("announced instance after %v: %q (heartbeat error: %v)", 2*o.TTL, got, a.Err())
	}
	if err := a.Err(); err != nil {
		t.Errorf("heartbeat error: %v", err)
	}
	if err := a.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// Stop deregisters at once, without waiting for the TTL.
	for _, s := range []string{svc, svc + "x"} {
		if got := resolveIDs(t, reg, s); len(got) != 0 {
			t.Errorf("%s after Stop: %q", s, got)
		}
	}
}

func testAnnounceAgain(t *testing.T, reg discovery.Registry, svc string, o Options) {
	a, err := discovery.Announce(ctxT(t), reg, o.TTL, discovery.Instance{Service: svc, Addr: "a:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	first := a.Lease()
	// The registry loses the lease (as after a restart): the next
	// heartbeat registers the instance again under a new one.
	if err := reg.Deregister(ctxT(t), first); err != nil {
		t.Fatal(err)
	}
	eventually(t, reg, svc, []string{"tcp://a:1"}, o.TTL+o.ExpirySlack)
	if a.Lease() == first {
		t.Errorf("lease not replaced")
	}
}
