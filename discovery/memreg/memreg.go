// Package memreg is the embedded registry: the discovery contract in this
// process's memory, with nothing to install. Leases expire on timers, not
// by polling. It also serves as the store of `rpcbench registry`
// (package regserver), which is why it exposes Snapshot.
package memreg

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"rpcbench/discovery"
)

// Registry is an in-memory registry, safe for concurrent use. Its own
// Registrar methods act for this process (owner ""); Owned gives the
// registrar of one remote client.
type Registry struct {
	mu       sync.Mutex
	closed   bool
	limits   Limits
	leases   map[discovery.LeaseID]*lease
	owned    map[string]int // live leases by owner
	services map[string]*service
	rev      uint64 // bumped by every change to any service
}

// Limits cap the leases a registry holds; zero means no cap.
type Limits struct {
	// Leases caps the live leases in all.
	Leases int
	// PerOwner caps the live leases of one owner.
	PerOwner int
}

// Errors of owned registrars and limits.
var (
	// ErrHeld: the instance is registered under a live lease of another
	// owner, which only that owner (or the lease's end) can replace.
	ErrHeld = errors.New("memreg: the instance is held by another owner's live lease")
	// ErrTooManyLeases: a Limits cap is reached.
	ErrTooManyLeases = errors.New("memreg: too many leases")
)

type lease struct {
	id       discovery.LeaseID
	owner    string
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
	return &Registry{leases: map[discovery.LeaseID]*lease{}, owned: map[string]int{}, services: map[string]*service{}}
}

// SetLimits sets the caps applied to later grants.
func (r *Registry) SetLimits(l Limits) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = l
}

// Owned returns the registrar through which owner (a secret only that
// client knows) grants its own leases: it renews, ends and registers
// with no lease but its own (another's is ErrLeaseNotFound, as if it did
// not exist), and cannot take over an instance held by another owner's
// live lease (ErrHeld).
func (r *Registry) Owned(owner string) discovery.Registrar { return ownedRegistrar{r, owner} }

type ownedRegistrar struct {
	r     *Registry
	owner string
}

func (o ownedRegistrar) Grant(_ context.Context, ttl time.Duration) (discovery.LeaseID, error) {
	return o.r.grant(ttl, o.owner)
}

func (o ownedRegistrar) Register(_ context.Context, id discovery.LeaseID, inst discovery.Instance) error {
	return o.r.register(id, inst, o.owner)
}

func (o ownedRegistrar) KeepAlive(_ context.Context, id discovery.LeaseID) error {
	return o.r.keepAlive(id, o.owner)
}

func (o ownedRegistrar) Deregister(_ context.Context, id discovery.LeaseID) error {
	return o.r.deregister(id, o.owner)
}

// newLeaseID draws an unguessable, positive lease ID.
func newLeaseID() discovery.LeaseID {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return discovery.LeaseID(binary.LittleEndian.Uint64(b[:])>>1 | 1)
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
	return r.grant(ttl, "")
}

func (r *Registry) grant(ttl time.Duration, owner string) (discovery.LeaseID, error) {
	if ttl <= 0 {
		ttl = discovery.DefaultTTL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, discovery.ErrClosed
	}
	if n := r.limits.Leases; n > 0 && len(r.leases) >= n {
		return 0, fmt.Errorf("%w: the registry holds its limit of %d", ErrTooManyLeases, n)
	}
	if n := r.limits.PerOwner; n > 0 && r.owned[owner] >= n {
		return 0, fmt.Errorf("%w: this client holds its limit of %d", ErrTooManyLeases, n)
	}
	id := newLeaseID()
	for r.leases[id] != nil {
		id = newLeaseID()
	}
	l := &lease{id: id, owner: owner, ttl: ttl, deadline: time.Now().Add(ttl), keys: map[key]struct{}{}}
	l.timer = time.AfterFunc(ttl, func() { r.expire(l) })
	r.leases[l.id] = l
	r.owned[owner]++
	return l.id, nil
}

// Register implements discovery.Registrar.
func (r *Registry) Register(_ context.Context, id discovery.LeaseID, inst discovery.Instance) error {
	return r.register(id, inst, "")
}

func (r *Registry) register(id discovery.LeaseID, inst discovery.Instance, owner string) error {
	inst, err := inst.Normalize()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l, err := r.leaseLocked(id, owner)
	if err != nil {
		return err
	}
	s := r.svc(inst.Service)
	k := key{inst.Service, inst.ID}
	if old, ok := s.instances[k.id]; ok {
		if old.lease == id && old.inst.Equal(inst) {
			return nil
		}
		if ol := r.leases[old.lease]; ol != nil {
			if ol.owner != owner {
				return fmt.Errorf("%w: %s", ErrHeld, inst)
			}
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
	return r.keepAlive(id, "")
}

func (r *Registry) keepAlive(id discovery.LeaseID, owner string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, err := r.leaseLocked(id, owner)
	if err != nil {
		return err
	}
	l.deadline = time.Now().Add(l.ttl)
	l.timer.Reset(l.ttl)
	return nil
}

// Deregister implements discovery.Registrar.
func (r *Registry) Deregister(_ context.Context, id discovery.LeaseID) error {
	return r.deregister(id, "")
}

func (r *Registry) deregister(id discovery.LeaseID, owner string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, err := r.leaseLocked(id, owner)
	if err != nil {
		return err
	}
	r.endLocked(l)
	return nil
}

// leaseLocked returns the live lease id of owner; another owner's is
// not found, so that its existence is not revealed.
func (r *Registry) leaseLocked(id discovery.LeaseID, owner string) (*lease, error) {
	if r.closed {
		return nil, discovery.ErrClosed
	}
	if l := r.leases[id]; l != nil && l.owner == owner {
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
	if r.owned[l.owner]--; r.owned[l.owner] == 0 {
		delete(r.owned, l.owner)
	}
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
