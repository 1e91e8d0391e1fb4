package balancer

import (
	"math/rand/v2"
	"slices"
	"sort"
)

type weightedRandom struct {
	eps   []Endpoint
	cum   []int // cum[i] is the sum of the weights of eps[:i+1]
	total int
}

// NewWeightedRandom returns a picker that chooses at random in proportion
// to the endpoints' weights, read once at Build.
func NewWeightedRandom(eps []Endpoint) Picker {
	p := &weightedRandom{eps: slices.Clone(eps), cum: make([]int, len(eps))}
	for i, e := range p.eps {
		p.total += max(e.Weight(), 1)
		p.cum[i] = p.total
	}
	return p
}

func (p *weightedRandom) weight(i int) int {
	if i == 0 {
		return p.cum[0]
	}
	return p.cum[i] - p.cum[i-1]
}

func (p *weightedRandom) Pick(_ string, usable func(Endpoint) bool) Endpoint {
	if p.total == 0 {
		return nil
	}
	// Fast path: a draw over all endpoints that lands on a usable one.
	i := sort.SearchInts(p.cum, rand.IntN(p.total)+1)
	if ok(usable, p.eps[i]) {
		return p.eps[i]
	}
	// Some are unusable: draw again over the usable ones only.
	total := 0
	for i, e := range p.eps {
		if ok(usable, e) {
			total += p.weight(i)
		}
	}
	if total == 0 {
		return nil
	}
	r := rand.IntN(total)
	for i, e := range p.eps {
		if !ok(usable, e) {
			continue
		}
		if r -= p.weight(i); r < 0 {
			return e
		}
	}
	return nil
}
