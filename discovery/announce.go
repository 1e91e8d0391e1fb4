package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultTTL is the lease TTL Announce uses when given none.
const DefaultTTL = 10 * time.Second

// renewFraction: a lease is renewed every TTL/renewFraction, so two
// heartbeats in a row can be lost before it expires.
const renewFraction = 3

// Announcement keeps a provider's instances registered: it holds their
// lease, renews it every third of its TTL, and registers them again under a
// new lease if the registry lost the old one (it restarted, or the
// provider was paused past the TTL). Stop deregisters.
type Announcement struct {
	reg   Registrar
	ttl   time.Duration
	insts []Instance

	life context.Context // ends at Stop: cuts short a heartbeat to a hung registry
	stop context.CancelFunc
	done chan struct{}

	mu    sync.Mutex
	lease LeaseID
	err   error // the last heartbeat's failure, nil once one succeeds
}

// Announce registers insts under one lease with the given TTL (DefaultTTL
// if ttl <= 0) and keeps them registered until Stop. ctx bounds the first
// registration only; the heartbeats run until Stop.
func Announce(ctx context.Context, reg Registrar, ttl time.Duration, insts ...Instance) (*Announcement, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if len(insts) == 0 {
		return nil, errors.New("discovery: Announce: no instances")
	}
	a := &Announcement{reg: reg, ttl: ttl, done: make(chan struct{})}
	for _, in := range insts {
		n, err := in.Normalize()
		if err != nil {
			return nil, err
		}
		a.insts = append(a.insts, n)
	}
	lease, err := a.register(ctx)
	if err != nil {
		return nil, err
	}
	a.lease = lease
	a.life, a.stop = context.WithCancel(context.Background())
	go a.heartbeat()
	return a, nil
}

// register grants a lease and registers every instance under it.
func (a *Announcement) register(ctx context.Context) (LeaseID, error) {
	lease, err := a.reg.Grant(ctx, a.ttl)
	if err != nil {
		return 0, fmt.Errorf("discovery: granting a lease: %w", err)
	}
	for _, in := range a.insts {
		if err := a.reg.Register(ctx, lease, in); err != nil {
			a.reg.Deregister(ctx, lease)
			return 0, fmt.Errorf("discovery: registering %v: %w", in, err)
		}
	}
	return lease, nil
}

func (a *Announcement) heartbeat() {
	defer close(a.done)
	every := a.ttl / renewFraction
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-a.life.Done():
			return
		case <-t.C:
		}
		// A heartbeat that takes longer than the renewal interval is of no
		// use: the next one is due.
		ctx, cancel := context.WithTimeout(a.life, every)
		a.mu.Lock()
		lease := a.lease
		a.mu.Unlock()
		err := a.reg.KeepAlive(ctx, lease)
		if errors.Is(err, ErrLeaseNotFound) {
			var fresh LeaseID
			if fresh, err = a.register(ctx); err == nil {
				a.mu.Lock()
				a.lease = fresh
				a.mu.Unlock()
			}
		}
		cancel()
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
		t.Reset(every)
	}
}

// Lease is the lease the instances are registered under now.
func (a *Announcement) Lease() LeaseID {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lease
}

// Err is the last heartbeat's error: nil while the registry answers.
func (a *Announcement) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Instances are the announced instances, with their defaults filled in.
func (a *Announcement) Instances() []Instance { return append([]Instance(nil), a.insts...) }

// Stop ends the heartbeats and deregisters the instances. A lease that had
// already ended is not an error. Stop is for one caller, once.
func (a *Announcement) Stop(ctx context.Context) error {
	a.stop()
	<-a.done
	err := a.reg.Deregister(ctx, a.Lease())
	if errors.Is(err, ErrLeaseNotFound) {
		return nil
	}
	return err
}
