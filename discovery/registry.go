package discovery

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LeaseID names a lease. Zero is never a valid lease.
type LeaseID int64

func (id LeaseID) String() string { return fmt.Sprintf("lease %#x", int64(id)) }

// Registrar is the provider's side of a registry. Implementations are safe
// for concurrent use.
type Registrar interface {
	// Grant creates a lease that ends ttl after it was granted or last
	// renewed. Backends may round ttl up to their granularity (etcd: whole
	// seconds).
	Grant(ctx context.Context, ttl time.Duration) (LeaseID, error)
	// Register adds inst under lease, or replaces the instance with the
	// same Service and ID. It returns ErrLeaseNotFound if the lease ended.
	Register(ctx context.Context, lease LeaseID, inst Instance) error
	// KeepAlive renews lease for another TTL, or returns ErrLeaseNotFound
	// if it already ended (its instances are gone: register them again).
	KeepAlive(ctx context.Context, lease LeaseID) error
	// Deregister ends lease now and removes every instance registered under
	// it. It returns ErrLeaseNotFound if the lease had already ended.
	Deregister(ctx context.Context, lease LeaseID) error
}

// Resolver is the consumer's side of a registry. Implementations are safe
// for concurrent use.
type Resolver interface {
	// Resolve returns the service's live instances, sorted by ID.
	Resolve(ctx context.Context, service string) ([]Instance, error)
	// Watch follows a service: the first Update holds its instances at the
	// time of the call, each further one the set after a change. Updates
	// the receiver has not taken yet are merged, so a slow receiver sees
	// fewer, larger updates but never a stale final state. Transient
	// backend failures are retried inside; the channel closes only when ctx
	// ends or the registry is closed. Watch returns an error if the first
	// state cannot be fetched.
	Watch(ctx context.Context, service string) (<-chan Update, error)
}

// Lister is implemented by registries that can list the services with
// live instances (every backend here does), for 'rpcbench registry list'.
type Lister interface {
	// Services returns the names of the services with at least one live
	// instance, sorted.
	Services(ctx context.Context) ([]string, error)
}

// Registry is a whole backend. Close releases its connections and closes
// every Watch channel; leases it granted live on until they expire.
type Registry interface {
	Registrar
	Resolver
	Close() error
}

// Errors shared by every backend.
var (
	ErrLeaseNotFound = errors.New("discovery: lease not found (expired or deregistered)")
	ErrClosed        = errors.New("discovery: registry is closed")
)
