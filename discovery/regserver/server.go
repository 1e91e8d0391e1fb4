package regserver

import (
	"context"
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

// Service answers the Registry.* methods from a memreg.
type Service struct {
	reg   *memreg.Registry
	epoch uint64
	quit  chan struct{} // closed by Close: ends long polls
	once  sync.Once
}

// NewService returns the methods of reg, to add to a server with
// Register.
func NewService(reg *memreg.Registry) *Service {
	return &Service{reg: reg, epoch: rand.Uint64() | 1, quit: make(chan struct{})}
}

// Close ends the long polls in progress, so that a server Shutdown does
// not wait for them.
func (s *Service) Close() { s.once.Do(func() { close(s.quit) }) }

// Register adds the Registry.* methods to srv.
func (s *Service) Register(srv *rpcbench.Server) error {
	for _, err := range []error{
		rpcbench.Handle(srv, MethodGrant, s.grant),
		rpcbench.Handle(srv, MethodRegister, s.register),
		rpcbench.Handle(srv, MethodKeepAlive, s.keepAlive),
		rpcbench.Handle(srv, MethodDeregister, s.deregister),
		rpcbench.Handle(srv, MethodResolve, s.resolve),
		rpcbench.Handle(srv, MethodWatch, s.watch),
		rpcbench.Handle(srv, MethodServices, s.services),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) grant(ctx context.Context, a *grantArgs) (*grantReply, error) {
	if a.TTLMillis <= 0 {
		return nil, rpcbench.Errorf(rpcbench.CodeBadRequest, "regserver: lease TTL %dms is not positive", a.TTLMillis)
	}
	id, err := s.reg.Grant(ctx, time.Duration(a.TTLMillis)*time.Millisecond)
	if err != nil {
		return nil, unavailable(err)
	}
	return &grantReply{Lease: id}, nil
}

func (s *Service) register(ctx context.Context, a *registerArgs) (*leaseReply, error) {
	return leaseResult(s.reg.Register(ctx, a.Lease, a.Instance))
}

func (s *Service) keepAlive(ctx context.Context, a *leaseArgs) (*leaseReply, error) {
	return leaseResult(s.reg.KeepAlive(ctx, a.Lease))
}

func (s *Service) deregister(ctx context.Context, a *leaseArgs) (*leaseReply, error) {
	return leaseResult(s.reg.Deregister(ctx, a.Lease))
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
