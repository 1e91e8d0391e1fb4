package regserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/discovery"
	"rpcbench/transports"
	_ "rpcbench/transports/tcp" // the transport of "rpcbench://"
)

// Client is the discovery contract over RPC to a registry Server. It is
// safe for concurrent use.
type Client struct {
	rc *rpcbench.Client
	// auth goes in every request: the registry's token and this client's
	// owner key, drawn at Dial.
	auth auth

	life context.Context // ends at Close: stops the watches' long polls
	stop context.CancelFunc
	wg   sync.WaitGroup
}

var _ discovery.Registry = (*Client)(nil)

// Timeouts of the client's calls.
const (
	// callTimeout bounds every call whose context has no deadline.
	callTimeout = 5 * time.Second
	// pollWait is how long one Watch long poll waits for a change.
	pollWait = 10 * time.Second
	// maxRetryDelay caps the pause between failed long polls.
	maxRetryDelay = 2 * time.Second
)

// TokenEnv names the environment variable from which registries opened by
// URL ("rpcbench://...") take their token.
const TokenEnv = "RPCBENCH_REGISTRY_TOKEN"

// Dial connects to the registry at addr on t; token is the registry's
// shared token ("" for none). An unreachable registry is reported here.
func Dial(ctx context.Context, t rpcbench.Transport, addr, token string) (*Client, error) {
	var owner [16]byte
	if _, err := rand.Read(owner[:]); err != nil {
		return nil, err
	}
	rc, err := rpcbench.Dial(ctx, t, addr, rpcbench.ClientOptions{Codec: codec, HeartbeatInterval: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("regserver: registry at %s %s: %w", t.Name(), addr, err)
	}
	c := &Client{rc: rc, auth: auth{Token: token, Owner: hex.EncodeToString(owner[:])}}
	c.life, c.stop = context.WithCancel(context.Background())
	return c, nil
}

// init registers the scheme "rpcbench" (TCP) and with it
// "rpcbench+TRANSPORT". The transport is looked up by name when a URL is
// opened, not here: transports register themselves when their packages are
// linked, in an order this package cannot know.
func init() {
	discovery.RegisterScheme("rpcbench", func(ctx context.Context, u *url.URL) (discovery.Registry, error) {
		name := "tcp"
		if _, variant, ok := strings.Cut(u.Scheme, "+"); ok {
			name = variant
		}
		o, err := urlOptions(u.Query())
		if err != nil {
			return nil, fmt.Errorf("regserver: %s: %w", u.Redacted(), err)
		}
		t, err := transports.New(name, o)
		if err != nil {
			return nil, fmt.Errorf("regserver: %s: %w", u.Scheme, err)
		}
		return Dial(ctx, t, u.Host+u.Path, os.Getenv(TokenEnv))
	})
}

// urlOptions reads a registry URL's TLS settings: ?tls=1, and cacert,
// skip-verify, cert and key (the client certificate) as the client
// command-line flags of those names.
func urlOptions(q url.Values) (transports.Options, error) {
	var o transports.Options
	for k := range q {
		switch k {
		case "tls", "cacert", "skip-verify", "cert", "key":
		default:
			return o, fmt.Errorf("unknown parameter %q (valid: tls, cacert, skip-verify, cert, key)", k)
		}
	}
	o.TLS = q.Get("tls") == "1" || q.Get("tls") == "true"
	o.TLSConf.CA, o.TLSConf.ClientCert, o.TLSConf.ClientKey = q.Get("cacert"), q.Get("cert"), q.Get("key")
	o.TLSConf.Insecure = q.Get("skip-verify") == "1" || q.Get("skip-verify") == "true"
	return o, nil
}

func (c *Client) call(ctx context.Context, method string, req, resp any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	if err := c.rc.Call(ctx, method, req, resp); err != nil {
		return fmt.Errorf("regserver: %s: %w", method, err)
	}
	return nil
}

// Grant implements discovery.Registrar.
func (c *Client) Grant(ctx context.Context, ttl time.Duration) (discovery.LeaseID, error) {
	if ttl <= 0 {
		ttl = discovery.DefaultTTL
	}
	var r grantReply
	if err := c.call(ctx, MethodGrant, &grantArgs{auth: c.auth, TTLMillis: max(ttl.Milliseconds(), 1)}, &r); err != nil {
		return 0, err
	}
	return r.Lease, nil
}

func (c *Client) leaseCall(ctx context.Context, method string, req any) error {
	var r leaseReply
	if err := c.call(ctx, method, req, &r); err != nil {
		return err
	}
	if r.LeaseNotFound {
		return discovery.ErrLeaseNotFound
	}
	return nil
}

// Register implements discovery.Registrar.
func (c *Client) Register(ctx context.Context, lease discovery.LeaseID, inst discovery.Instance) error {
	inst, err := inst.Normalize()
	if err != nil {
		return err
	}
	return c.leaseCall(ctx, MethodRegister, &registerArgs{auth: c.auth, Lease: lease, Instance: inst})
}

// KeepAlive implements discovery.Registrar.
func (c *Client) KeepAlive(ctx context.Context, lease discovery.LeaseID) error {
	return c.leaseCall(ctx, MethodKeepAlive, &leaseArgs{auth: c.auth, Lease: lease})
}

// Deregister implements discovery.Registrar.
func (c *Client) Deregister(ctx context.Context, lease discovery.LeaseID) error {
	return c.leaseCall(ctx, MethodDeregister, &leaseArgs{auth: c.auth, Lease: lease})
}

// Resolve implements discovery.Resolver.
func (c *Client) Resolve(ctx context.Context, service string) ([]discovery.Instance, error) {
	var r snapshotReply
	if err := c.call(ctx, MethodResolve, &resolveArgs{auth: c.auth, Service: service}, &r); err != nil {
		return nil, err
	}
	return r.Instances, nil
}

// Services implements discovery.Lister.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	var r servicesReply
	if err := c.call(ctx, MethodServices, &servicesArgs{auth: c.auth}, &r); err != nil {
		return nil, err
	}
	return r.Services, nil
}

// Watch implements discovery.Resolver with a chain of long polls. While
// the registry is unreachable the watch keeps its last state and retries;
// a restarted registry (new epoch) is taken as it is, so instances whose
// providers have not registered again yet leave until they do.
func (c *Client) Watch(ctx context.Context, service string) (<-chan discovery.Update, error) {
	if c.life.Err() != nil {
		return nil, discovery.ErrClosed
	}
	var first snapshotReply
	if err := c.call(ctx, MethodResolve, &resolveArgs{auth: c.auth, Service: service}, &first); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(ctx)
	stopLink := context.AfterFunc(c.life, cancel)
	feed := discovery.NewFeed(pctx, nil)
	feed.Publish(first.Instances)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer stopLink()
		defer cancel()
		c.poll(pctx, feed, service, first.Epoch, first.Revision)
	}()
	return feed.C(), nil
}

func (c *Client) poll(ctx context.Context, feed *discovery.Feed, service string, epoch, rev uint64) {
	delay := 50 * time.Millisecond
	for ctx.Err() == nil {
		var r snapshotReply
		cctx, cancel := context.WithTimeout(ctx, pollWait+callTimeout)
		err := c.rc.Call(cctx, MethodWatch, &watchArgs{auth: c.auth, Service: service, Epoch: epoch, Revision: rev, WaitMillis: pollWait.Milliseconds()}, &r)
		cancel()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(delay):
			}
			delay = min(2*delay, maxRetryDelay)
			continue
		}
		delay = 50 * time.Millisecond
		if r.Epoch != epoch || r.Revision != rev {
			epoch, rev = r.Epoch, r.Revision
			feed.Publish(r.Instances)
		}
	}
}

// Close stops the watches (their channels close) and the connection.
func (c *Client) Close() error {
	c.stop()
	c.wg.Wait()
	return c.rc.Close()
}
