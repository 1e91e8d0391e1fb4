package balancer

import (
	"slices"
	"strconv"
	"sync/atomic"
)

// DefaultVirtualNodes is the number of ring points per unit of weight.
const DefaultVirtualNodes = 160

type ringPoint struct {
	hash uint64
	ep   int // index into eps
}

type consistentHash struct {
	eps  []Endpoint
	ring []ringPoint // sorted by hash
	rr   atomic.Uint64
}

// NewConsistentHash returns a picker that places each endpoint on a hash
// ring at vnodes × Weight points (vnodes <= 0: DefaultVirtualNodes) and
// sends a key to the first usable endpoint clockwise of the key's hash.
// The hash (64-bit FNV-1a with a final mix) is fixed, so every client
// process maps a key to the same endpoint. Calls without a key are spread
// round robin.
func NewConsistentHash(eps []Endpoint, vnodes int) Picker {
	if vnodes <= 0 {
		vnodes = DefaultVirtualNodes
	}
	p := &consistentHash{eps: slices.Clone(eps)}
	for i, e := range p.eps {
		id := e.ID()
		for v := range vnodes * max(e.Weight(), 1) {
			p.ring = append(p.ring, ringPoint{hash: hashString(id + "#" + strconv.Itoa(v)), ep: i})
		}
	}
	slices.SortFunc(p.ring, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return a.ep - b.ep
	})
	return p
}

func (p *consistentHash) Pick(key string, usable func(Endpoint) bool) Endpoint {
	n := len(p.ring)
	if n == 0 {
		return nil
	}
	if key == "" {
		start := p.rr.Add(1)
		for i := range uint64(len(p.eps)) {
			if e := p.eps[(start+i)%uint64(len(p.eps))]; ok(usable, e) {
				return e
			}
		}
		return nil
	}
	h := hashString(key)
	at, _ := slices.BinarySearchFunc(p.ring, h, func(pt ringPoint, h uint64) int {
		switch {
		case pt.hash < h:
			return -1
		case pt.hash > h:
			return 1
		}
		return 0
	})
	// Walk clockwise past unusable endpoints, testing each once.
	var tested []bool
	for i := range n {
		pt := p.ring[(at+i)%n]
		if tested != nil && tested[pt.ep] {
			continue
		}
		e := p.eps[pt.ep]
		if ok(usable, e) {
			return e
		}
		if tested == nil {
			tested = make([]bool, len(p.eps))
		}
		tested[pt.ep] = true
	}
	return nil
}

// hashString is 64-bit FNV-1a followed by the murmur3 finalizer, which
// spreads the nearly equal hashes of similar short strings over the ring.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
