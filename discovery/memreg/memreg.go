// Package memreg is the embedded registry: the discovery contract in this
// process's memory, with nothing to install. Leases expire on timers, not
// by polling. It also serves as the store of `rpcbench registry`
// (package regserver), which is why it exposes Snapshot.
package memreg

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"time"

	"rpcbench/discovery"
)

// Registry is an in-memory registry, safe for concurrent use.
type Registry struct {
	mu        sync.Mutex
	closed    bool
	nextLease discovery.LeaseID
	leases    map[discovery.LeaseID]*lease
	services  map[string]*service
	rev       uint64 // bumped by every change to any service
}

type lease struct {
	id       discovery.LeaseID
	ttl      time.Duration
	deadline time.Time
	timer    *time.Timer
	keys     map[key]struct{}
}

type key struct{ service, id string }

type service struct {
	instances map[string]entry // by instance ID
	rev       uint64           // Registry.rev at the last change
	changed   chan struct{}    // closed at the next change
	feeds     map[*discovery.Feed]struct{}
}

type entry struct {
	inst  discovery.Instance
	lease discovery.LeaseID
}

var _ discovery.Registry = (*Registry)(nil)

// New returns an empty registry.
func New() *Registry {
	return &Registry{leases: map[discovery.LeaseID]*lease{}, services: map[string]*service{}}
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
)

// Default is the process-wide registry that "mem://" opens.
func Default() *Registry {
	defaultOnce.Do(func() { defaultReg = New() })
	return defaultReg
}

func init() {
	discovery.RegisterScheme("mem", func(context.Context, *url.URL) (discovery.Registry, error) {
		return unclosable{Default()}, nil
	})
}

// unclosable keeps Open's callers from closing the shared Default registry.
type unclosable struct{ *Registry }

func (unclosable) Close() error { return nil }

func (r *Registry) svc(name string) *service {
	s := r.services[name]
	if s == nil {
		s = &service{instances: map[string]entry{}, changed: make(chan struct{}), feeds: map[*discovery.Feed]struct{}{}}
		r.services[name] = s
	}
	return s
}

// Grant implements discovery.Registrar.
func (r *Registry) Grant(_ context.Context, ttl time.Duration) (discovery.LeaseID, error) {
	if ttl <= 0 {
		ttl = discovery.DefaultTTL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, discovery.ErrClosed
	}
	r.nextLease++
	l := &lease{id: r.nextLease, ttl: ttl, deadline: time.Now().Add(ttl), keys: map[key]struct{}{}}
	l.timer = time.AfterFunc(ttl, func() { r.expire(l) })
	r.leases[l.id] = l
	return l.id, nil
}

// Register implements discovery.Registrar.
func (r *Registry) Register(_ context.Context, id discovery.LeaseID, inst discovery.Instance) error {
	inst, err := inst.Normalize()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return discovery.ErrClosed
	}
	l := r.leases[id]
	if l == nil {
		return discovery.ErrLeaseNotFound
	}
	s := r.svc(inst.Service)
	k := key{inst.Service, inst.ID}
	if old, ok := s.instances[k.id]; ok {
		if old.lease == id && old.inst.Equal(inst) {
			return nil
		}
		if ol := r.leases[old.lease]; ol != nil {
			delete(ol.keys, k)
		}
	}
	s.instances[k.id] = entry{inst: inst, lease: id}
	l.keys[k] = struct{}{}
	r.changedLocked(s)
	return nil
}

// KeepAlive implements discovery.Registrar.
func (r *Registry) KeepAlive(_ context.Context, id discovery.LeaseID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, err := r.leaseLocked(id)
	if err != nil {
		return err
	}
	l.deadline = time.Now().Add(l.ttl)
	l.timer.Reset(l.ttl)
	return nil
}

// Deregister implements discovery.Registrar.
func (r *Registry) Deregister(_ context.Context, id discovery.LeaseID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, err := r.leaseLocked(id)
	if err != nil {
		return err
	}
	r.endLocked(l)
	return nil
}

// leaseLocked returns the live lease id.
func (r *Registry) leaseLocked(id discovery.LeaseID) (*lease, error) {
	if r.closed {
		return nil, discovery.ErrClosed
	}
	if l := r.leases[id]; l != nil {
		return l, nil
	}
	return nil, discovery.ErrLeaseNotFound
}

// expire runs on l's timer. A renewal may have raced with the timer
// firing, so the deadline decides.
func (r *Registry) expire(l *lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leases[l.id] != l || time.Now().Before(l.deadline) {
		return
	}
	r.endLocked(l)
}

func (r *Registry) endLocked(l *lease) {
	l.timer.Stop()
	delete(r.leases, l.id)
	touched := map[*service]struct{}{}
	for k := range l.keys {
		s := r.services[k.service]
		delete(s.instances, k.id)
		touched[s] = struct{}{}
	}
	for s := range touched {
		r.changedLocked(s)
	}
}

// changedLocked records a change to s and tells its watchers.
func (r *Registry) changedLocked(s *service) {
	r.rev++
	s.rev = r.rev
	close(s.changed)
	s.changed = make(chan struct{})
	if len(s.feeds) > 0 {
		insts := s.listLocked()
		for f := range s.feeds {
			f.Publish(insts)
		}
	}
}

func (s *service) listLocked() []discovery.Instance {
	out := make([]discovery.Instance, 0, len(s.instances))
	for _, e := range s.instances {
		out = append(out, e.inst)
	}
	discovery.SortInstances(out)
	return out
}

// Services implements discovery.Lister.
func (r *Registry) Services(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, discovery.ErrClosed
	}
	var names []string
	for name, s := range r.services {
		if len(s.instances) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Resolve implements discovery.Resolver.
func (r *Registry) Resolve(_ context.Context, name string) ([]discovery.Instance, error) {
	insts, _, _, err := r.Snapshot(name)
	return insts, err
}

// Snapshot returns the service's instances, the registry revision of their
// last change, and a channel closed at the next change: enough to wait for
// a change without a subscription (regserver's long polls).
func (r *Registry) Snapshot(name string) (insts []discovery.Instance, rev uint64, changed <-chan struct{}, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, 0, nil, discovery.ErrClosed
	}
	s := r.svc(name)
	return s.listLocked(), s.rev, s.changed, nil
}

// Watch implements discovery.Resolver.
func (r *Registry) Watch(ctx context.Context, name string) (<-chan discovery.Update, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, discovery.ErrClosed
	}
	s := r.svc(name)
	var f *discovery.Feed
	f = discovery.NewFeed(ctx, func() {
		r.mu.Lock()
		delete(s.feeds, f)
		r.mu.Unlock()
	})
	s.feeds[f] = struct{}{}
	f.Publish(s.listLocked())
	return f.C(), nil
}

// Close stops every lease timer and closes every Watch channel. The
// registry answers ErrClosed from then on.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, l := range r.leases {
		l.timer.Stop()
	}
	for _, s := range r.services {
		for f := range s.feeds {
			f.Close()
		}
		close(s.changed)
	}
	return nil
}
