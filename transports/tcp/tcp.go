// Package tcp is rpcbench's stream transport over TCP and Unix domain
// sockets. Clients multiplex calls over one connection with a
// write-coalescing sender (package framing). Servers run on one of two
// engines: "net", a goroutine per connection, or "gnet", gnet/v2's event
// loops with handlers run off the loop.
package tcp

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
	"rpcbench/transports/framing"
	"rpcbench/transports/tlsconf"
	"rpcbench/wirestats"
)

// Engines lists the server engines.
var Engines = []string{"net", "gnet"}

// Options configure the transport. Zero values select the defaults.
type Options struct {
	// Engine is the server engine: "net" (default) or "gnet".
	Engine string
	// ReadIdleTimeout drops server connections idle this long. Default 2m;
	// negative disables it.
	ReadIdleTimeout time.Duration
	// MaxPayload caps frame payloads. Default 16 MiB.
	MaxPayload int
	// TLS, if set, wraps connections in TLS: the server config for Listen,
	// the client config for Dial. The gnet engine does not support TLS.
	TLS *tls.Config
	// GnetLoops is the gnet engine's number of event loops (default: half
	// of GOMAXPROCS, at least one).
	GnetLoops int
	// Limits bound what a server admits (connections, frame time,
	// memory for frames being received); see package admit for defaults.
	Limits admit.Limits
	// Logf receives refused connections; default log.Printf.
	Logf func(format string, args ...any)
}

// Transport is TCP (and Unix sockets: addresses "unix:///path").
type Transport struct{ opts Options }

var _ rpcbench.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) (*Transport, error) {
	switch opts.Engine {
	case "":
		opts.Engine = "net"
	case "net":
	case "gnet":
		if opts.TLS != nil {
			return nil, fmt.Errorf("tcp: the gnet engine does not support TLS; use --engine net")
		}
	default:
		return nil, fmt.Errorf("tcp: unknown engine %q (valid: %s)", opts.Engine, strings.Join(Engines, ", "))
	}
	if opts.ReadIdleTimeout == 0 {
		opts.ReadIdleTimeout = 2 * time.Minute
	} else if opts.ReadIdleTimeout < 0 {
		opts.ReadIdleTimeout = 0
	}
	opts.Limits = opts.Limits.Fill()
	return &Transport{opts: opts}, nil
}

func (t *Transport) logf(format string, args ...any) {
	if t.opts.Logf != nil {
		t.opts.Logf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// Name implements rpcbench.Transport.
func (t *Transport) Name() string { return "tcp" }

// SplitAddr maps "unix:///path", "unix:path", "tcp://host:port" and
// "host:port" to a network and address.
func SplitAddr(addr string) (network, address string) {
	switch {
	case strings.HasPrefix(addr, "unix://"):
		return "unix", strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "unix:"):
		return "unix", strings.TrimPrefix(addr, "unix:")
	case strings.HasPrefix(addr, "tcp://"):
		return "tcp", strings.TrimPrefix(addr, "tcp://")
	}
	return "tcp", addr
}

func (t *Transport) connOptions(stats *wirestats.Counter, idle time.Duration) framing.Options {
	return framing.Options{MaxPayload: t.opts.MaxPayload, ReadIdleTimeout: idle, Stats: stats}
}

// Dial implements rpcbench.Transport.
func (t *Transport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	network, address := SplitAddr(addr)
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if t.opts.TLS != nil {
		tc := tls.Client(nc, tlsconf.ForAddr(t.opts.TLS, address))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	// The client watches liveness with heartbeats, not read deadlines.
	return framing.NewConn(nc, t.connOptions(&wirestats.Client, 0)), nil
}

// Listen implements rpcbench.Transport.
func (t *Transport) Listen(addr string) (rpcbench.Listener, error) {
	network, address := SplitAddr(addr)
	if t.opts.Engine == "gnet" {
		return listenGnet(t, network, address)
	}
	nl, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return &netListener{t: t, nl: nl, conns: admit.NewConns("tcp", t.opts.Limits, t.opts.Logf), budget: admit.NewBytes(t.opts.Limits.MaxInProgress)}, nil
}

// netListener is the "net" engine: a goroutine per connection.
type netListener struct {
	t      *Transport
	nl     net.Listener
	conns  *admit.Conns
	budget *admit.Bytes // shared by the listener's connections
}

func (l *netListener) Addr() net.Addr { return l.nl.Addr() }
func (l *netListener) Close() error   { return l.nl.Close() }

func (l *netListener) Serve(h rpcbench.ConnHandler) error {
	var wrap func(net.Conn) net.Conn
	if l.t.opts.TLS != nil {
		wrap = func(nc net.Conn) net.Conn { return tls.Server(nc, l.t.opts.TLS) }
	}
	opts := l.t.connOptions(&wirestats.Server, l.t.opts.ReadIdleTimeout)
	opts.FrameTimeout, opts.Budget, opts.Conns = l.t.opts.Limits.FrameTimeout, l.budget, l.conns
	return framing.AcceptLoop(l.nl, h, opts, wrap)
}
