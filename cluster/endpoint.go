package cluster

import (
	"sync"
	"sync/atomic"

	"rpcbench"
	"rpcbench/balancer"
	"rpcbench/discovery"
)

// endpoint is one instance as the client sees it: a connection, a
// breaker and counters. It implements balancer.Endpoint.
type endpoint struct {
	inst discovery.Instance
	rc   *rpcbench.Client
	brk  breaker

	inflight atomic.Int64
	attempts atomic.Uint64
	failures atomic.Uint64

	// An endpoint that left the registry takes no new calls and closes
	// its connection when the last call in flight ends.
	removed   atomic.Bool
	closeOnce sync.Once
}

var _ balancer.Endpoint = (*endpoint)(nil)

func (e *endpoint) ID() string    { return e.inst.ID }
func (e *endpoint) Weight() int   { return e.inst.Weight }
func (e *endpoint) Inflight() int { return int(e.inflight.Load()) }

// acquire counts a call in; it fails if the endpoint has left.
func (e *endpoint) acquire() bool {
	e.inflight.Add(1)
	if e.removed.Load() {
		e.release()
		return false
	}
	return true
}

func (e *endpoint) release() {
	if e.inflight.Add(-1) == 0 && e.removed.Load() {
		e.close()
	}
}

// remove retires the endpoint; the connection closes once idle.
func (e *endpoint) remove() {
	e.removed.Store(true)
	if e.inflight.Load() == 0 {
		e.close()
	}
}

func (e *endpoint) close() { e.closeOnce.Do(func() { e.rc.Close() }) }

// InstanceStats are one instance's counters, for plotting traffic per
// instance over time. Counters are cumulative for the instance's life in
// this client.
type InstanceStats struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`
	Transport string `json:"transport"`
	Weight    int    `json:"weight"`
	// Attempts sent to the instance: first attempts, retries and hedges.
	Attempts uint64 `json:"attempts"`
	// Failures are attempts that ended unavailable or resource exhausted.
	Failures uint64 `json:"failures"`
	Inflight int    `json:"inflight"`
	Breaker  string `json:"breaker"`
	// BreakerOpened counts the times the breaker opened.
	BreakerOpened uint64 `json:"breaker_opened"`
}

func (e *endpoint) stats() InstanceStats {
	return InstanceStats{
		ID: e.inst.ID, Addr: e.inst.Addr, Transport: e.inst.Transport, Weight: e.inst.Weight,
		Attempts: e.attempts.Load(), Failures: e.failures.Load(), Inflight: e.Inflight(),
		Breaker: e.brk.State().String(), BreakerOpened: e.brk.opened.Load(),
	}
}
