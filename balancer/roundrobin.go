package balancer

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
)

type roundRobin struct {
	eps  []Endpoint
	next atomic.Uint64
}

// NewRoundRobin returns a picker that takes the endpoints in turn,
// skipping unusable ones. It starts at a random place so that many clients
// do not all begin with the same endpoint.
func NewRoundRobin(eps []Endpoint) Picker {
	p := &roundRobin{eps: slices.Clone(eps)}
	p.next.Store(rand.Uint64())
	return p
}

func (p *roundRobin) Pick(_ string, usable func(Endpoint) bool) Endpoint {
	n := uint64(len(p.eps))
	if n == 0 {
		return nil
	}
	if e := p.eps[p.next.Add(1)%n]; ok(usable, e) {
		return e
	}
	// The endpoint whose turn it is cannot take the call. Scanning on from
	// it would hand all its turns to its neighbour; random draws share them
	// out evenly, and a scan settles the case of few usable endpoints.
	for range n {
		if e := p.eps[rand.Uint64N(n)]; ok(usable, e) {
			return e
		}
	}
	start := rand.Uint64N(n)
	for i := range n {
		if e := p.eps[(start+i)%n]; ok(usable, e) {
			return e
		}
	}
	return nil
}
