package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/balancer"
	"rpcbench/discovery"
)

// Client calls the instances of one service. It is safe for concurrent
// use.
type Client struct {
	service string
	opts    Options
	build   balancer.Builder
	idem    map[string]bool
	budget  *retryBudget
	now     func() time.Time

	set atomic.Pointer[endpointSet]

	mu         sync.Mutex // serialises set changes; guards transports, changed
	transports map[string]rpcbench.Transport
	changed    chan struct{} // closed at each set change

	life   context.Context // ends at Close
	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	calls, attempts, retries, hedges, failed atomic.Uint64
}

// endpointSet is an immutable view of the instances and their picker.
type endpointSet struct {
	eps     []*endpoint
	byID    map[string]*endpoint
	picker  balancer.Picker
	skipped []string // instances that could not be used, with the reason
}

// Dial follows service in reg and returns a client for it once the
// registry's first answer is in (and, with MinInstances, enough instances
// are registered). ctx bounds the wait only.
func Dial(ctx context.Context, reg discovery.Resolver, service string, opts Options) (*Client, error) {
	opts.fill()
	build, err := balancer.Get(opts.Balancer)
	if err != nil {
		return nil, err
	}
	c := &Client{
		service: service, opts: opts, build: build, idem: map[string]bool{},
		now: time.Now, transports: map[string]rpcbench.Transport{}, changed: make(chan struct{}),
	}
	c.budget = newRetryBudget(opts.Budget, c.now)
	for _, m := range opts.Idempotent {
		c.idem[m] = true
	}
	c.set.Store(&endpointSet{byID: map[string]*endpoint{}, picker: build(nil)})
	c.life, c.stop = context.WithCancel(context.Background())

	// The watch lives as long as the client; only the wait for its first
	// answer is bounded by ctx.
	type watchResult struct {
		ch  <-chan discovery.Update
		err error
	}
	res := make(chan watchResult, 1)
	go func() {
		ch, err := reg.Watch(c.life, service)
		res <- watchResult{ch, err}
	}()
	var ch <-chan discovery.Update
	select {
	case r := <-res:
		if r.err != nil {
			c.stop()
			return nil, fmt.Errorf("cluster: watching %s: %w", service, r.err)
		}
		ch = r.ch
	case <-ctx.Done():
		c.stop()
		if r := <-res; r.ch != nil {
			for range r.ch {
			}
		}
		return nil, fmt.Errorf("cluster: watching %s: %w", service, ctx.Err())
	}
	select {
	case u, ok := <-ch:
		if !ok {
			c.stop()
			return nil, fmt.Errorf("cluster: watching %s: the registry closed the watch", service)
		}
		c.apply(u.Instances)
	case <-ctx.Done():
		c.stop()
		for range ch {
		}
		return nil, fmt.Errorf("cluster: waiting for %s's instances: %w", service, ctx.Err())
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for u := range ch {
			c.apply(u.Instances)
		}
	}()
	if err := c.WaitInstances(ctx, opts.MinInstances); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// WaitInstances waits until the service has at least n usable instances.
func (c *Client) WaitInstances(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		have, changed := len(c.set.Load().eps), c.changed
		c.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("cluster: %s has %d instances, waiting for %d: %w", c.service, have, n, ctx.Err())
		case <-c.life.Done():
			return errClosed
		}
	}
}

// apply makes insts the current set: unchanged instances keep their
// endpoint (connection, breaker, counters), new ones get one, and those
// gone are retired.
func (c *Client) apply(insts []discovery.Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	old := c.set.Load()
	next := &endpointSet{byID: map[string]*endpoint{}}
	for _, in := range insts {
		if e := old.byID[in.ID]; e != nil && e.inst.Equal(in) {
			next.eps = append(next.eps, e)
			next.byID[in.ID] = e
			continue
		}
		e, err := c.newEndpoint(in)
		if err != nil {
			next.skipped = append(next.skipped, fmt.Sprintf("%s: %v", in.ID, err))
			continue
		}
		next.eps = append(next.eps, e)
		next.byID[in.ID] = e
	}
	bes := make([]balancer.Endpoint, len(next.eps))
	for i, e := range next.eps {
		bes[i] = e
	}
	next.picker = c.build(bes)
	c.set.Store(next)
	for _, e := range old.eps {
		if next.byID[e.inst.ID] != e {
			e.remove()
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Client) newEndpoint(in discovery.Instance) (*endpoint, error) {
	t := c.transports[in.Transport]
	if t == nil {
		var err error
		if t, err = c.opts.Transport(in.Transport); err != nil {
			return nil, err
		}
		c.transports[in.Transport] = t
	}
	co := c.opts.Client
	if co.Codec == "" {
		co.Codec = in.Codec
	}
	rc, err := rpcbench.NewClient(t, in.Addr, co)
	if err != nil {
		return nil, err
	}
	return &endpoint{inst: in, rc: rc, brk: breaker{opts: &c.opts.Breaker, now: c.now}}, nil
}

// pick chooses a usable instance the call has not tried, claims a breaker
// admission for it, and reports whether that admission is a probe.
func (c *Client) pick(key string, tried []*endpoint) (*endpoint, bool) {
	set := c.set.Load()
	var refused []*endpoint // lost a race for a half-open breaker's probe
	for {
		usable := readyEndpoint // the common case, without a per-call closure
		if len(tried) > 0 || len(refused) > 0 {
			excluded := append(slices.Clip(tried), refused...)
			usable = func(be balancer.Endpoint) bool {
				return !slices.Contains(excluded, be.(*endpoint)) && readyEndpoint(be)
			}
		}
		be := set.picker.Pick(key, usable)
		if be == nil {
			return nil, false
		}
		e := be.(*endpoint)
		if ok, probe := e.brk.allow(); ok {
			return e, probe
		}
		refused = append(refused, e)
	}
}

// readyEndpoint is the balancer filter: the endpoint is still registered
// and its breaker would admit a call.
func readyEndpoint(be balancer.Endpoint) bool {
	e := be.(*endpoint)
	return !e.removed.Load() && e.brk.ready()
}

// noInstance explains why pick found nothing.
func (c *Client) noInstance() error {
	set := c.set.Load()
	if len(set.eps) == 0 {
		msg := fmt.Sprintf("cluster: no instance of %s is registered", c.service)
		if len(set.skipped) > 0 {
			msg += "; unusable: " + strings.Join(set.skipped, "; ")
		}
		return &rpcbench.Error{Code: rpcbench.CodeUnavailable, Message: msg}
	}
	open := 0
	for _, e := range set.eps {
		if !e.brk.ready() {
			open++
		}
	}
	return &rpcbench.Error{Code: rpcbench.CodeUnavailable,
		Message: fmt.Sprintf("cluster: all %d instances of %s are unavailable (circuit breaker open on %d)", len(set.eps), c.service, open)}
}

// attempt sends one attempt to e and feeds its outcome to the breaker.
func (c *Client) attempt(ctx context.Context, e *endpoint, probe bool, method string, req, resp any) error {
	if !e.acquire() {
		e.brk.record(neutral, probe)
		return errEndpointGone
	}
	c.attempts.Add(1)
	e.attempts.Add(1)
	err := e.rc.Call(ctx, method, req, resp)
	e.release()
	h := healthOf(err)
	if h == failure {
		e.failures.Add(1)
	}
	e.brk.record(h, probe)
	if c.opts.OnAttempt != nil {
		c.opts.OnAttempt(e.inst.ID, err)
	}
	return err
}

// backoff is the pause before retry round n (1, 2, ...).
func (c *Client) backoff(n int) time.Duration {
	r := c.opts.Retry
	d := r.InitialBackoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	if r.Jitter > 0 {
		d -= time.Duration(r.Jitter * rand.Float64() * float64(d))
	}
	return d
}

// Instances returns the current instances' counters, sorted by ID.
func (c *Client) Instances() []InstanceStats {
	set := c.set.Load()
	out := make([]InstanceStats, len(set.eps))
	for i, e := range set.eps {
		out[i] = e.stats()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Stats are the client's counters since Dial.
type Stats struct {
	Calls    uint64 `json:"calls"`
	Attempts uint64 `json:"attempts"`
	// Retries are attempts after a failed one; Hedges after a slow one.
	Retries uint64 `json:"retries"`
	Hedges  uint64 `json:"hedges"`
	// BudgetDenied counts retries and hedges the budget refused.
	BudgetDenied uint64 `json:"budget_denied"`
	// Failed calls returned an error.
	Failed    uint64 `json:"failed"`
	Instances int    `json:"instances"`
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Calls: c.calls.Load(), Attempts: c.attempts.Load(), Retries: c.retries.Load(), Hedges: c.hedges.Load(),
		BudgetDenied: c.budget.denied.Load(), Failed: c.failed.Load(), Instances: len(c.set.Load().eps),
	}
}

// Close stops following the registry and closes every connection; calls
// in flight fail with unavailable.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed.Swap(true) {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	c.stop()
	c.wg.Wait()
	for _, e := range c.set.Load().eps {
		e.removed.Store(true)
		e.close()
	}
	return nil
}
