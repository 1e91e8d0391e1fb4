// Package nats is rpcbench's brokered transport over NATS request-reply
// (see package brokered for how frames become messages). A request is
// published to the service's subject with a reply subject of the client's
// inbox plus its request ID; servers consume the subject in one queue
// group, so several servers share its load. NATS holds no messages: a
// request no server is subscribed to comes back at once as "no
// responders" (the call fails with unavailable), and there is nothing for
// a deadline to expire, so the call's budget travels only in the frame.
//
// A listener given a host:port starts a NATS server inside its own
// process there (github.com/nats-io/nats-server/v2, default settings:
// 1 MiB maximum message), so that benchmarks need no service of their
// own; given nats://HOST:PORT[/SUBJECT], or with Options.Broker, it uses
// that server. Clients dial the listener's address,
// nats://HOST:PORT/SUBJECT.
package nats

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"rpcbench"
	"rpcbench/transports/brokered"
)

// Options configure the transport. Zero values select the defaults.
type Options struct {
	// Broker is an existing NATS server, nats://HOST:PORT[/SUBJECT], for
	// listeners given a plain host:port; empty: each such listener embeds
	// one.
	Broker string
	brokered.Settings
}

// Transport is RPC through NATS.
type Transport struct{ opts Options }

var _ rpcbench.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) (*Transport, error) {
	if opts.Broker != "" {
		if _, err := brokered.ParseAddr(opts.Broker, "nats"); err != nil {
			return nil, err
		}
	}
	return &Transport{opts: opts}, nil
}

// Name implements rpcbench.Transport.
func (t *Transport) Name() string { return "nats" }

// addr reads a dial address: a URL, or a bare host:port meaning the
// default subject there.
func addr(s string) (brokered.Addr, error) {
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	return brokered.ParseAddr(s, "nats")
}

// Dial implements rpcbench.Transport.
func (t *Transport) Dial(ctx context.Context, s string) (rpcbench.ClientConn, error) {
	a, err := addr(s)
	if err != nil {
		return nil, err
	}
	return brokered.Dial("nats", t.opts.MaxPayload, func(r brokered.Replies) (brokered.Link, error) {
		return dialClient(ctx, a, r)
	})
}

// Listen implements rpcbench.Transport.
func (t *Transport) Listen(s string) (rpcbench.Listener, error) {
	var a brokered.Addr
	var embedded *natsserver.Server
	var err error
	switch {
	case strings.HasPrefix(s, "nats://"):
		a, err = brokered.ParseAddr(s, "nats")
	case t.opts.Broker != "":
		a, err = brokered.ParseAddr(t.opts.Broker, "nats")
	default:
		embedded, a, err = startEmbedded(s)
	}
	if err != nil {
		return nil, err
	}
	opts := brokered.ListenerOptions{Name: "nats", Settings: t.opts.Settings}
	l, err := brokered.Listen(opts, func(r brokered.Requests) (brokered.ServerLink, error) {
		return dialServer(a, embedded, r)
	})
	if err != nil && embedded != nil {
		stopEmbedded(embedded)
	}
	return l, err
}

// startEmbedded runs a NATS server in this process at hostport (port 0:
// any free one).
func startEmbedded(hostport string) (*natsserver.Server, brokered.Addr, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, brokered.Addr{}, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, brokered.Addr{}, err
	}
	if p == 0 {
		p = natsserver.RANDOM_PORT // 0 would mean NATS's 4222
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: host, Port: p, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, brokered.Addr{}, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		stopEmbedded(s)
		return nil, brokered.Addr{}, &net.OpError{Op: "listen", Net: "nats", Err: errNotReady}
	}
	return s, brokered.Addr{Scheme: "nats", Host: s.Addr().String(), Service: brokered.DefaultService}, nil
}

// stopEmbedded shuts an embedded server down once the replies it holds
// have left for their clients (within a second), and a moment later, so
// that clients read them before their connections close: a listener's
// last replies must not be lost to its own broker's shutdown, as a TCP
// server's are not to its socket's close.
func stopEmbedded(s *natsserver.Server) {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && outbound(s) > 0; {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	s.Shutdown()
	s.WaitForShutdown()
}

// outbound is the bytes s has queued for its clients.
func outbound(s *natsserver.Server) int {
	cz, err := s.Connz(&natsserver.ConnzOptions{})
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range cz.Conns {
		n += c.Pending
	}
	return n
}
