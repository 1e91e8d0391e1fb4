package http1

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/wire"
)

// Options configure the transport. Zero values select the documented
// defaults; server settings apply to Listen, client settings to Dial.
type Options struct {
	// TLS, if set, serves and dials HTTPS: the server config for Listen, the
	// client config for Dial (see package tlsconf).
	TLS *tls.Config
	// MaxPayload caps request bodies on the server (413 over it) and reply
	// bodies on the client. Default 16 MiB. (Left at 0, fasthttp would cap
	// bodies at 4 MiB; this transport always sets the limit itself.)
	MaxPayload int

	// IdleTimeout closes server connections idle between requests for this
	// long. Default 2m; negative disables it. Keep it above the clients'
	// MaxIdleConnDuration so that a server never closes a connection a
	// client is about to reuse.
	IdleTimeout time.Duration
	// ReadTimeout bounds the time to read one request, from the connection's
	// first byte or the end of the idle wait. Default: IdleTimeout's value
	// (fasthttp also applies it to a new connection's first request, which a
	// pooled client may send long after dialling).
	ReadTimeout time.Duration
	// WriteTimeout bounds the time to write one response. Default 1m.
	WriteTimeout time.Duration

	// MaxConns caps a client's connections (one call each at a time).
	// Default 512.
	MaxConns int
	// MaxConnWait is how long a call waits for a free connection when all
	// MaxConns are busy before failing with resource_exhausted; a call's
	// deadline cuts the wait shorter. Default 10s.
	MaxConnWait time.Duration
	// MaxIdleConnDuration closes client connections idle for this long.
	// Default 1m; it must stay below the server's IdleTimeout.
	MaxIdleConnDuration time.Duration
	// DialTimeout bounds dialling and the TLS handshake. Default 10s (a burst
	// of calls opens up to MaxConns connections at once).
	DialTimeout time.Duration
	// PingTimeout bounds a heartbeat or cancel request. Default 5s.
	PingTimeout time.Duration

	// Limits cap the server's connections (MaxConns, MaxConnsPerAddr; see
	// package admit for defaults) and the memory of request bodies being
	// received (MaxInProgress per listener, MaxInProgressPerConn), which
	// grows with the bytes that arrive, not with the Content-Length
	// announced; a request must arrive within FrameTimeout of its first
	// byte, and ReadTimeout still bounds the wait for that byte.
	Limits admit.Limits

	// Logf receives server-side problems (handler-code panics, refused
	// connections); default log.Printf.
	Logf func(format string, args ...any)
}

// Defaults.
const (
	DefaultIdleTimeout         = 2 * time.Minute
	DefaultWriteTimeout        = time.Minute
	DefaultMaxConns            = 512
	DefaultMaxConnWait         = 10 * time.Second
	DefaultMaxIdleConnDuration = time.Minute
	DefaultDialTimeout         = 10 * time.Second
	DefaultPingTimeout         = 5 * time.Second
)

func (o *Options) fill() error {
	if o.MaxPayload <= 0 {
		o.MaxPayload = wire.DefaultMaxPayload
	}
	idleGiven, clientIdleGiven := o.IdleTimeout != 0, o.MaxIdleConnDuration != 0
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = o.IdleTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnWait <= 0 {
		o.MaxConnWait = DefaultMaxConnWait
	}
	if o.MaxIdleConnDuration <= 0 {
		o.MaxIdleConnDuration = DefaultMaxIdleConnDuration
		if o.IdleTimeout > 0 && o.MaxIdleConnDuration >= o.IdleTimeout {
			o.MaxIdleConnDuration = o.IdleTimeout / 2
		}
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	o.Limits = o.Limits.Fill()
	// Both sides are configured from one Options in the CLI and the harness;
	// refuse a pair that would make clients reuse connections the server
	// has just closed (POST is never retried).
	if idleGiven && clientIdleGiven && o.IdleTimeout > 0 && o.MaxIdleConnDuration >= o.IdleTimeout {
		return fmt.Errorf("http1: MaxIdleConnDuration %v must be below the server's IdleTimeout %v", o.MaxIdleConnDuration, o.IdleTimeout)
	}
	if o.IdleTimeout < 0 {
		o.IdleTimeout = 0 // fasthttp: no idle timeout
	}
	if o.ReadTimeout < 0 {
		o.ReadTimeout = 0
	}
	if o.WriteTimeout < 0 {
		o.WriteTimeout = 0
	}
	return nil
}

// Transport is HTTP/1.1 (HTTPS with Options.TLS). Addresses are
// "host:port", optionally prefixed with "http://" or "https://".
type Transport struct{ opts Options }

var _ rpcbench.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) (*Transport, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	return &Transport{opts: opts}, nil
}

// Name implements rpcbench.Transport.
func (t *Transport) Name() string { return "http1" }

// hostPort strips an optional URL scheme and trailing slash.
func hostPort(addr string) string {
	addr = strings.TrimPrefix(addr, "http://")
	addr = strings.TrimPrefix(addr, "https://")
	return strings.TrimSuffix(addr, "/")
}

// Listen implements rpcbench.Transport.
func (t *Transport) Listen(addr string) (rpcbench.Listener, error) {
	nl, err := net.Listen("tcp", hostPort(addr))
	if err != nil {
		return nil, err
	}
	return newListener(t, nl), nil
}

// Dial implements rpcbench.Transport. It opens one connection at once, so
// that an unreachable server is reported here; that connection then serves
// the first call.
func (t *Transport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	cc := newClientConn(t, hostPort(addr))
	if err := cc.pool.warm(ctx); err != nil {
		cc.Close()
		return nil, err
	}
	return cc, nil
}
