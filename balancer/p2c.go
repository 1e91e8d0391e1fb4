package balancer

import (
	"math/rand/v2"
	"slices"
)

type p2c struct{ eps []Endpoint }

// NewP2C returns a power-of-two-choices picker: it draws two distinct
// endpoints at random and takes the one with fewer calls in flight. That
// avoids herding onto the single least-loaded endpoint, which every client
// would otherwise pick at once, while still steering away from slow ones.
func NewP2C(eps []Endpoint) Picker { return &p2c{eps: slices.Clone(eps)} }

func (p *p2c) Pick(_ string, usable func(Endpoint) bool) Endpoint {
	eps := p.eps
	if usable != nil {
		// Draws among usable endpoints only; when most are usable the
		// first draws succeed and no list is built.
		if e, done := p.tryDraws(usable); done {
			return e
		}
		eps = make([]Endpoint, 0, len(p.eps))
		for _, e := range p.eps {
			if usable(e) {
				eps = append(eps, e)
			}
		}
	}
	return choose2(eps)
}

// tryDraws makes the two draws over all endpoints and succeeds if both
// are usable (done reports whether it decided).
func (p *p2c) tryDraws(usable func(Endpoint) bool) (Endpoint, bool) {
	n := len(p.eps)
	if n < 2 {
		return nil, false
	}
	i := rand.IntN(n)
	j := rand.IntN(n - 1)
	if j >= i {
		j++
	}
	a, b := p.eps[i], p.eps[j]
	if !usable(a) || !usable(b) {
		return nil, false
	}
	return less(a, b), true
}

func choose2(eps []Endpoint) Endpoint {
	switch n := len(eps); n {
	case 0:
		return nil
	case 1:
		return eps[0]
	default:
		i := rand.IntN(n)
		j := rand.IntN(n - 1)
		if j >= i {
			j++
		}
		return less(eps[i], eps[j])
	}
}

// less returns the endpoint with fewer calls in flight relative to its
// weight (a at a tie).
func less(a, b Endpoint) Endpoint {
	// a.Inflight/a.Weight <= b.Inflight/b.Weight, without division.
	if a.Inflight()*max(b.Weight(), 1) <= b.Inflight()*max(a.Weight(), 1) {
		return a
	}
	return b
}
