package regserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/discovery"
	"rpcbench/discovery/memreg"
)

// MaxWait caps a Watch long poll.
const MaxWait = 30 * time.Second

// Options guard a registry against its clients. Zero values are the
// defaults.
type Options struct {
	// Token, if set, must be in every request (a shared secret).
	Token string
	// MinTTL and MaxTTL bound the TTL a lease is granted with. Defaults
	// 50ms and 10 minutes.
	MinTTL, MaxTTL time.Duration
	// Limits cap the live leases. Default 10,000 in all, 100 per owner.
	Limits memreg.Limits
}

// minOwner is the shortest owner key accepted: a client draws 128 bits.
const minOwner = 16

// Service answers the Registry.* methods from a memreg.
type Service struct {
	reg   *memreg.Registry
	opts  Options
	epoch uint64
	quit  chan struct{} // closed by Close: ends long polls
	once  sync.Once
}

// NewService returns the methods of reg, to add to a server with
// Register; it sets reg's limits.
func NewService(reg *memreg.Registry, o Options) *Service {
	if o.MinTTL <= 0 {
		o.MinTTL = 50 * time.Millisecond
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = 10 * time.Minute
	}
	if o.Limits == (memreg.Limits{}) {
		o.Limits = memreg.Limits{Leases: 10000, PerOwner: 100}
	}
	reg.SetLimits(o.Limits)
	return &Service{reg: reg, opts: o, epoch: rand.Uint64() | 1, quit: make(chan struct{})}
}

// Close ends the long polls in progress, so that a server Shutdown does
// not wait for them.
func (s *Service) Close() { s.once.Do(func() { close(s.quit) }) }

// Register adds the Registry.* methods to srv.
func (s *Service) Register(srv *rpcbench.Server) error {
	for _, err := range []error{
		rpcbench.Handle(srv, MethodGrant, guard(s, true, s.grant)),
		rpcbench.Handle(srv, MethodRegister, guard(s, true, s.register)),
		rpcbench.Handle(srv, MethodKeepAlive, guard(s, true, s.keepAlive)),
		rpcbench.Handle(srv, MethodDeregister, guard(s, true, s.deregister)),
		rpcbench.Handle(srv, MethodResolve, guard(s, false, s.resolve)),
		rpcbench.Handle(srv, MethodWatch, guard(s, false, s.watch)),
		rpcbench.Handle(srv, MethodServices, guard(s, false, s.services)),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// guard checks a request's token, and (for the lease methods, owned) that
// it names an owner, before f.
func guard[Req, Resp any](s *Service, owned bool, f func(context.Context, *Req) (*Resp, error)) func(context.Context, *Req) (*Resp, error) {
	return func(ctx context.Context, req *Req) (*Resp, error) {
		a := any(req).(interface{ creds() *auth }).creds()
		if s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(a.Token), []byte(s.opts.Token)) != 1 {
			return nil, rpcbench.Errorf(rpcbench.CodeBadRequest, "regserver: refused: wrong or missing registry token")
		}
		if owned && len(a.Owner) < minOwner {
			return nil, rpcbench.Errorf(rpcbench.CodeBadRequest, "regserver: a lease request needs an owner key of at least %d characters", minOwner)
		}
		return f(ctx, req)
	}
}

func (s *Service) grant(ctx context.Context, a *grantArgs) (*grantReply, error) {
	if a.TTLMillis < s.opts.MinTTL.Milliseconds() || a.TTLMillis > s.opts.MaxTTL.Milliseconds() {
		return nil, rpcbench.Errorf(rpcbench.CodeBadRequest, "regserver: lease TTL %dms outside %v..%v", a.TTLMillis, s.opts.MinTTL, s.opts.MaxTTL)
	}
	id, err := s.reg.Owned(a.Owner).Grant(ctx, time.Duration(a.TTLMillis)*time.Millisecond)
	switch {
	case errors.Is(err, memreg.ErrTooManyLeases):
		return nil, rpcbench.Errorf(rpcbench.CodeResourceExhausted, "regserver: %v", err)
	case err != nil:
		return nil, unavailable(err)
	}
	return &grantReply{Lease: id}, nil
}

func (s *Service) register(ctx context.Context, a *registerArgs) (*leaseReply, error) {
	return leaseResult(s.reg.Owned(a.Owner).Register(ctx, a.Lease, a.Instance))
}

func (s *Service) keepAlive(ctx context.Context, a *leaseArgs) (*leaseReply, error) {
	return leaseResult(s.reg.Owned(a.Owner).KeepAlive(ctx, a.Lease))
}

func (s *Service) deregister(ctx context.Context, a *leaseArgs) (*leaseReply, error) {
	return leaseResult(s.reg.Owned(a.Owner).Deregister(ctx, a.Lease))
}

func leaseResult(err error) (*leaseReply, error) {
	switch {
	case err == nil:
		return &leaseReply{}, nil
	case errors.Is(err, discovery.ErrLeaseNotFound):
		return &leaseReply{LeaseNotFound: true}, nil
	case errors.Is(err, discovery.ErrClosed):
		return nil, unavailable(err)
	}
	return nil, rpcbench.Errorf(rpcbench.CodeBadRequest, "%v", err)
}

func unavailable(err error) error {
	return rpcbench.Errorf(rpcbench.CodeUnavailable, "regserver: %v", err)
}

func (s *Service) services(ctx context.Context, _ *servicesArgs) (*servicesReply, error) {
	names, err := s.reg.Services(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return &servicesReply{Services: names}, nil
}

func (s *Service) resolve(_ context.Context, a *resolveArgs) (*snapshotReply, error) {
	insts, rev, _, err := s.reg.Snapshot(a.Service)
	if err != nil {
		return nil, unavailable(err)
	}
	return &snapshotReply{Instances: insts, Epoch: s.epoch, Revision: rev}, nil
}

func (s *Service) watch(ctx context.Context, a *watchArgs) (*snapshotReply, error) {
	wait := min(time.Duration(a.WaitMillis)*time.Millisecond, MaxWait)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		insts, rev, changed, err := s.reg.Snapshot(a.Service)
		if err != nil {
			return nil, unavailable(err)
		}
		if a.Epoch != s.epoch || a.Revision != rev || wait <= 0 {
			return &snapshotReply{Instances: insts, Epoch: s.epoch, Revision: rev}, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			wait = 0
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.quit:
			return nil, rpcbench.Errorf(rpcbench.CodeUnavailable, "regserver: registry is shutting down")
		}
	}
}
