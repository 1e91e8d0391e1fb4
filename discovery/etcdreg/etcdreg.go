// Package etcdreg is the discovery contract on etcd, for deployments that
// outgrow one machine: a discovery lease is an etcd lease, an instance is a
// key under it (PREFIX/SERVICE/ID, its value the instance as JSON), and a
// Watch is an etcd prefix watch.
//
// URLs for discovery.Open: "etcd://host:2379[,host:2379...][/prefix]".
package etcdreg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"rpcbench/discovery"
)

// DefaultPrefix is where instances live when no prefix is given.
const DefaultPrefix = "/rpcbench/services/"

// Registry is a discovery.Registry on an etcd client. It is safe for
// concurrent use.
type Registry struct {
	c      *clientv3.Client
	prefix string
	owns   bool // Close closes c

	life context.Context // ends at Close: stops the watches
	stop context.CancelFunc
	wg   sync.WaitGroup
}

var _ discovery.Registry = (*Registry)(nil)

// New uses an existing client; Close leaves it open. prefix is where the
// instances live (DefaultPrefix if empty).
func New(c *clientv3.Client, prefix string) *Registry {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	r := &Registry{c: c, prefix: prefix}
	r.life, r.stop = context.WithCancel(context.Background())
	return r
}

// Dial connects to etcd at endpoints and checks that it answers within
// ctx. Close closes the connection.
func Dial(ctx context.Context, endpoints []string, prefix string) (*Registry, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcdreg: %v: %w", endpoints, err)
	}
	// The connection is lazy: ask something to learn whether etcd is there.
	if _, err := c.Get(ctx, "/rpcbench/ping", clientv3.WithCountOnly()); err != nil {
		c.Close()
		return nil, fmt.Errorf("etcdreg: etcd at %v does not answer: %w", endpoints, err)
	}
	r := New(c, prefix)
	r.owns = true
	return r, nil
}

func init() {
	discovery.RegisterScheme("etcd", func(ctx context.Context, u *url.URL) (discovery.Registry, error) {
		if u.Host == "" {
			return nil, fmt.Errorf("etcdreg: %q names no endpoint", u.String())
		}
		prefix := u.Path
		if prefix == "" || prefix == "/" {
			prefix = DefaultPrefix
		}
		return Dial(ctx, strings.Split(u.Host, ","), prefix)
	})
}

func (r *Registry) servicePrefix(service string) string { return r.prefix + service + "/" }

// leaseErr maps etcd's lease-not-found to the discovery sentinel.
func leaseErr(err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) || (err != nil && strings.Contains(err.Error(), rpctypes.ErrLeaseNotFound.Error())) {
		return discovery.ErrLeaseNotFound
	}
	if err != nil {
		return fmt.Errorf("etcdreg: %w", err)
	}
	return nil
}

// Grant implements discovery.Registrar. etcd counts TTLs in whole seconds:
// ttl is rounded up, and etcd may raise it to its own minimum.
func (r *Registry) Grant(ctx context.Context, ttl time.Duration) (discovery.LeaseID, error) {
	if ttl <= 0 {
		ttl = discovery.DefaultTTL
	}
	secs := int64((ttl + time.Second - 1) / time.Second)
	resp, err := r.c.Grant(ctx, secs)
	if err != nil {
		return 0, fmt.Errorf("etcdreg: grant: %w", err)
	}
	return discovery.LeaseID(resp.ID), nil
}

// Register implements discovery.Registrar.
func (r *Registry) Register(ctx context.Context, lease discovery.LeaseID, inst discovery.Instance) error {
	inst, err := inst.Normalize()
	if err != nil {
		return err
	}
	val, err := json.Marshal(inst)
	if err != nil {
		return err
	}
	_, err = r.c.Put(ctx, r.servicePrefix(inst.Service)+inst.ID, string(val), clientv3.WithLease(clientv3.LeaseID(lease)))
	return leaseErr(err)
}

// KeepAlive implements discovery.Registrar with one keep-alive round trip.
func (r *Registry) KeepAlive(ctx context.Context, lease discovery.LeaseID) error {
	_, err := r.c.KeepAliveOnce(ctx, clientv3.LeaseID(lease))
	return leaseErr(err)
}

// Deregister implements discovery.Registrar: revoking the lease deletes
// its keys.
func (r *Registry) Deregister(ctx context.Context, lease discovery.LeaseID) error {
	_, err := r.c.Revoke(ctx, clientv3.LeaseID(lease))
	return leaseErr(err)
}

// Resolve implements discovery.Resolver.
func (r *Registry) Resolve(ctx context.Context, service string) ([]discovery.Instance, error) {
	state, _, err := r.load(ctx, service)
	if err != nil {
		return nil, err
	}
	return list(state), nil
}

// Services implements discovery.Lister: the first key segment under the
// prefix of every instance.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	resp, err := r.c.Get(ctx, r.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("etcdreg: list services: %w", err)
	}
	var names []string
	for _, kv := range resp.Kvs {
		name, _, ok := strings.Cut(strings.TrimPrefix(string(kv.Key), r.prefix), "/")
		if ok && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// load reads the service's keys and the revision they were read at.
func (r *Registry) load(ctx context.Context, service string) (map[string]discovery.Instance, int64, error) {
	resp, err := r.c.Get(ctx, r.servicePrefix(service), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("etcdreg: resolve %s: %w", service, err)
	}
	state := map[string]discovery.Instance{}
	for _, kv := range resp.Kvs {
		var in discovery.Instance
		if json.Unmarshal(kv.Value, &in) == nil {
			state[string(kv.Key)] = in
		}
	}
	return state, resp.Header.Revision, nil
}

func list(state map[string]discovery.Instance) []discovery.Instance {
	out := make([]discovery.Instance, 0, len(state))
	for _, in := range state {
		out = append(out, in)
	}
	discovery.SortInstances(out)
	return out
}

// Watch implements discovery.Resolver: a read of the service's keys, then
// a prefix watch from the revision after it. A watch that fails (a
// compacted revision, a lost connection) starts over with a fresh read.
func (r *Registry) Watch(ctx context.Context, service string) (<-chan discovery.Update, error) {
	if r.life.Err() != nil {
		return nil, discovery.ErrClosed
	}
	state, rev, err := r.load(ctx, service)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	stopLink := context.AfterFunc(r.life, cancel)
	feed := discovery.NewFeed(wctx, nil)
	feed.Publish(list(state))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer stopLink()
		defer cancel()
		r.follow(wctx, feed, service, state, rev)
	}()
	return feed.C(), nil
}

func (r *Registry) follow(ctx context.Context, feed *discovery.Feed, service string, state map[string]discovery.Instance, rev int64) {
	delay := 50 * time.Millisecond
	for ctx.Err() == nil {
		wch := r.c.Watch(clientv3.WithRequireLeader(ctx), r.servicePrefix(service), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for wr := range wch {
			if wr.Err() != nil {
				break
			}
			for _, ev := range wr.Events {
				k := string(ev.Kv.Key)
				var in discovery.Instance
				if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &in) == nil {
					state[k] = in
				} else {
					delete(state, k)
				}
			}
			if wr.Header.Revision > rev {
				rev = wr.Header.Revision
			}
			if len(wr.Events) > 0 {
				feed.Publish(list(state))
			}
			delay = 50 * time.Millisecond
		}
		// The watch ended: unless we are done, read the state again and
		// watch from there.
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, 2*time.Second)
			fresh, frev, err := r.load(ctx, service)
			if err == nil {
				state, rev = fresh, frev
				feed.Publish(list(state))
				break
			}
		}
	}
}

// Close stops the watches (their channels close) and, if Dial made the
// client, closes it.
func (r *Registry) Close() error {
	r.stop()
	r.wg.Wait()
	if r.owns {
		return r.c.Close()
	}
	return nil
}
