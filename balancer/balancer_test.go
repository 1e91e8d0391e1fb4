package balancer_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"rpcbench/balancer"
)

type ep struct {
	id       string
	weight   int
	inflight int
}

func (e *ep) ID() string    { return e.id }
func (e *ep) Weight() int   { return e.weight }
func (e *ep) Inflight() int { return e.inflight }

func endpoints(weights ...int) []balancer.Endpoint {
	var out []balancer.Endpoint
	for i, w := range weights {
		out = append(out, &ep{id: fmt.Sprintf("tcp://10.0.0.%d:7000", i), weight: w})
	}
	return out
}

func count(p balancer.Picker, n int, key func(i int) string, usable func(balancer.Endpoint) bool) map[balancer.Endpoint]int {
	got := map[balancer.Endpoint]int{}
	for i := range n {
		k := ""
		if key != nil {
			k = key(i)
		}
		e := p.Pick(k, usable)
		if e == nil {
			panic("no endpoint")
		}
		got[e]++
	}
	return got
}

// within reports whether got is within tol (a fraction) of want.
func within(got, want int, tol float64) bool {
	return math.Abs(float64(got-want)) <= tol*float64(want)
}

func TestRegistry(t *testing.T) {
	want := []string{"consistent_hash", "p2c", "round_robin", "weighted_random"}
	if got := balancer.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	if _, err := balancer.Get("nope"); err == nil {
		t.Error("unknown policy accepted")
	}
	for _, name := range append(want, "") {
		b, err := balancer.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if p := b(nil); p.Pick("k", nil) != nil {
			t.Errorf("%q: picked from no endpoints", name)
		}
		eps := endpoints(1, 1, 1)
		none := func(balancer.Endpoint) bool { return false }
		if p := b(eps); p.Pick("k", none) != nil {
			t.Errorf("%q: picked an unusable endpoint", name)
		}
		only := eps[1]
		for i := range 50 {
			if got := b(eps).Pick(fmt.Sprint(i), func(e balancer.Endpoint) bool { return e == only }); got != only {
				t.Fatalf("%q: with one usable endpoint picked %v", name, got)
			}
		}
	}
}

func TestRoundRobinIsExact(t *testing.T) {
	eps := endpoints(1, 5, 1, 1) // weights are ignored
	got := count(balancer.NewRoundRobin(eps), 4000, nil, nil)
	for _, e := range eps {
		if got[e] != 1000 {
			t.Errorf("%s got %d of 4000, want exactly 1000", e.ID(), got[e])
		}
	}
	// Skipping an unusable endpoint spreads its share over the others.
	skip := eps[0]
	got = count(balancer.NewRoundRobin(eps), 3000, nil, func(e balancer.Endpoint) bool { return e != skip })
	if got[skip] != 0 {
		t.Errorf("unusable endpoint picked %d times", got[skip])
	}
	for _, e := range eps[1:] {
		if !within(got[e], 1000, 0.1) {
			t.Errorf("%s got %d of 3000 with one endpoint skipped, want ~1000", e.ID(), got[e])
		}
	}
}

func TestWeightedRandomFollowsWeights(t *testing.T) {
	eps := endpoints(1, 2, 5, 2)
	const n = 100000
	got := count(balancer.NewWeightedRandom(eps), n, nil, nil)
	for _, e := range eps {
		want := n * e.Weight() / 10
		if !within(got[e], want, 0.05) {
			t.Errorf("%s (weight %d) got %d of %d, want ~%d", e.ID(), e.Weight(), got[e], n, want)
		}
	}
	// The weight-5 endpoint unusable: the rest share by weight (1:2:2).
	heavy := eps[2]
	got = count(balancer.NewWeightedRandom(eps), n, nil, func(e balancer.Endpoint) bool { return e != heavy })
	for _, e := range []balancer.Endpoint{eps[0], eps[1], eps[3]} {
		want := n * e.Weight() / 5
		if !within(got[e], want, 0.05) {
			t.Errorf("without the heavy endpoint %s (weight %d) got %d, want ~%d", e.ID(), e.Weight(), got[e], want)
		}
	}
}

func TestP2CAvoidsBusyEndpoints(t *testing.T) {
	eps := endpoints(1, 1, 1, 1)
	for i, e := range eps {
		e.(*ep).inflight = []int{0, 3, 10, 50}[i]
	}
	const n = 12000
	got := count(balancer.NewP2C(eps), n, nil, nil)
	// With 4 endpoints, the i-th least loaded wins the draws that pair it
	// only with busier ones: 3/6, 2/6, 1/6 and 0 of them.
	for i, frac := range []float64{3.0 / 6, 2.0 / 6, 1.0 / 6, 0} {
		want := int(frac * n)
		if i == 3 {
			if got[eps[3]] != 0 {
				t.Errorf("the busiest endpoint was picked %d times", got[eps[3]])
			}
			continue
		}
		if !within(got[eps[i]], want, 0.06) {
			t.Errorf("endpoint with %d in flight got %d of %d, want ~%d", eps[i].Inflight(), got[eps[i]], n, want)
		}
	}
}

// Simulated load: calls take longer on a slow endpoint, so its in-flight
// count grows; p2c sends it less than its 1/N share while round robin
// does not.
func TestP2CShedsSlowEndpoint(t *testing.T) {
	eps := endpoints(1, 1, 1)
	slow := eps[0].(*ep)
	type call struct {
		e    *ep
		ends int
	}
	var running []call
	picks := map[balancer.Endpoint]int{}
	p := balancer.NewP2C(eps)
	for tick := range 30000 {
		kept := running[:0]
		for _, c := range running {
			if c.ends <= tick {
				c.e.inflight--
			} else {
				kept = append(kept, c)
			}
		}
		running = kept
		e := p.Pick("", nil).(*ep)
		picks[e]++
		e.inflight++
		d := 3
		if e == slow {
			d = 30
		}
		running = append(running, call{e, tick + d})
	}
	if share := float64(picks[slow]) / 30000; share > 0.2 {
		t.Errorf("slow endpoint got %.0f%% of the calls, want well under a third", 100*share)
	}
}

func TestConsistentHash(t *testing.T) {
	eps := endpoints(1, 1, 1, 1, 1)
	p := balancer.NewConsistentHash(eps, 0)
	key := func(i int) string { return fmt.Sprintf("user-%d", i) }
	const n = 50000
	owner := make([]balancer.Endpoint, n)
	for i := range n {
		owner[i] = p.Pick(key(i), nil)
		if again := p.Pick(key(i), nil); again != owner[i] {
			t.Fatalf("key %q moved between two picks", key(i))
		}
	}
	share := map[balancer.Endpoint]int{}
	for _, e := range owner {
		share[e]++
	}
	for _, e := range eps {
		if !within(share[e], n/5, 0.25) {
			t.Errorf("%s owns %d of %d keys, want ~%d", e.ID(), share[e], n, n/5)
		}
	}
	// A picker built by another process over the same IDs agrees.
	other := balancer.NewConsistentHash(endpoints(1, 1, 1, 1, 1), 0)
	for i := range 1000 {
		if other.Pick(key(i), nil).ID() != owner[i].ID() {
			t.Fatalf("key %q maps differently in another picker over the same IDs", key(i))
		}
	}
	// One endpoint leaves: only its keys move, and they spread over the rest.
	gone := eps[2]
	p4 := balancer.NewConsistentHash(slices.Delete(slices.Clone(eps), 2, 3), 0)
	moved := 0
	for i := range n {
		now := p4.Pick(key(i), nil)
		if owner[i] != gone && now != owner[i] {
			t.Fatalf("key %q moved from a surviving endpoint", key(i))
		}
		if owner[i] == gone {
			moved++
		}
	}
	if !within(moved, n/5, 0.25) {
		t.Errorf("%d keys moved, want ~%d", moved, n/5)
	}
	// An unusable endpoint's keys go to the next one on the ring, the
	// same one each time, and the others' keys stay.
	usable := func(e balancer.Endpoint) bool { return e != gone }
	for i := range 2000 {
		now := p.Pick(key(i), usable)
		if owner[i] != gone && now != owner[i] {
			t.Fatalf("key %q moved while only %s was unusable", key(i), gone.ID())
		}
		if now == gone || now != p.Pick(key(i), usable) {
			t.Fatalf("key %q: failover not stable", key(i))
		}
	}
	// Without a key, calls are spread round robin.
	got := count(p, 5000, nil, nil)
	for _, e := range eps {
		if got[e] != 1000 {
			t.Errorf("keyless calls: %s got %d of 5000", e.ID(), got[e])
		}
	}
}

func TestConsistentHashWeights(t *testing.T) {
	eps := endpoints(1, 3)
	p := balancer.NewConsistentHash(eps, 0)
	got := count(p, 40000, func(i int) string { return fmt.Sprint("k", i) }, nil)
	if !within(got[eps[1]], 30000, 0.1) {
		t.Errorf("weight-3 endpoint owns %d of 40000 keys, want ~30000", got[eps[1]])
	}
}

func BenchmarkPick(b *testing.B) {
	eps := endpoints(1, 2, 3, 1, 2, 3, 1, 2)
	usable := func(balancer.Endpoint) bool { return true }
	for _, name := range balancer.Names() {
		build, _ := balancer.Get(name)
		p := build(eps)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				p.Pick("key", usable)
			}
		})
	}
}
