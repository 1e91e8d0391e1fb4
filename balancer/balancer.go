// Package balancer chooses which instance of a service receives a call.
// A Builder makes a Picker from the current set of endpoints; the caller
// builds a new Picker whenever the set changes, and asks the Picker for one
// endpoint per call attempt. Policies are registered by name:
//
//	round_robin       each endpoint in turn
//	weighted_random   at random, in proportion to Weight
//	p2c               power of two choices: of two random endpoints, the one
//	                  with fewer calls in flight
//	consistent_hash   a hash ring with virtual nodes on the call's key, so
//	                  the same key reaches the same endpoint while it lives
//	                  and only ~1/N of the keys move when the set changes
package balancer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Endpoint is what a picker knows of an instance. Its methods are called
// concurrently with calls in progress and must be cheap.
type Endpoint interface {
	// ID is stable for the endpoint's life; consistent hashing hashes it.
	ID() string
	// Weight is its relative share of traffic (at least 1).
	Weight() int
	// Inflight is the number of calls it is serving for this client now.
	Inflight() int
}

// Picker chooses an endpoint for one call attempt. It is immutable after
// Build apart from its own counters, and safe for concurrent use.
type Picker interface {
	// Pick returns one of the endpoints the picker was built with for
	// which usable returns true (usable nil: any), or nil if there is
	// none. key is the call's affinity key; only consistent_hash uses it.
	Pick(key string, usable func(Endpoint) bool) Endpoint
}

// Builder makes a Picker over a set of endpoints; Build must not keep or
// modify the slice it is given beyond copying it.
type Builder func(endpoints []Endpoint) Picker

// Policy names.
const (
	RoundRobin     = "round_robin"
	WeightedRandom = "weighted_random"
	P2C            = "p2c"
	ConsistentHash = "consistent_hash"
)

var builders = struct {
	sync.RWMutex
	m map[string]Builder
}{m: map[string]Builder{}}

// Register adds a policy; duplicates panic.
func Register(name string, b Builder) {
	builders.Lock()
	defer builders.Unlock()
	if _, dup := builders.m[name]; dup {
		panic("balancer: policy registered twice: " + name)
	}
	builders.m[name] = b
}

// Get returns the named policy's Builder ("" is round_robin).
func Get(name string) (Builder, error) {
	if name == "" {
		name = RoundRobin
	}
	builders.RLock()
	b, ok := builders.m[name]
	builders.RUnlock()
	if !ok {
		return nil, fmt.Errorf("balancer: unknown policy %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Names lists the registered policies.
func Names() []string {
	builders.RLock()
	defer builders.RUnlock()
	return slices.Sorted(maps.Keys(builders.m))
}

func init() {
	Register(RoundRobin, NewRoundRobin)
	Register(WeightedRandom, NewWeightedRandom)
	Register(P2C, NewP2C)
	Register(ConsistentHash, func(eps []Endpoint) Picker { return NewConsistentHash(eps, 0) })
}

func ok(usable func(Endpoint) bool, e Endpoint) bool { return usable == nil || usable(e) }
