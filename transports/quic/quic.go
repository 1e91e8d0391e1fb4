package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/tlsconf"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// Modes lists the client modes.
var Modes = []string{"stream", "mux"}

// ALPN protocol names; a server offers both.
const (
	ALPNStream = "rpcbench"
	ALPNMux    = "rpcbench-mux"
)

// Options configure the transport. Zero values select the defaults.
type Options struct {
	// Mode is how a client carries calls: "stream" (default), one QUIC
	// stream per call, or "mux", framed calls on MuxStreams long-lived
	// streams. Servers accept both.
	Mode string
	// MuxStreams is the number of long-lived streams a mux client opens.
	// Default 1 (see the package benchmarks for why).
	MuxStreams int
	// TLS is the server config for Listen and the client config for Dial;
	// NextProtos is set by this package. Default: a self-signed certificate
	// (tlsconf.Load), and clients that skip verification.
	TLS *tls.Config
	// MaxPayload caps frame payloads. Default wire.DefaultMaxPayload.
	MaxPayload int
	// MaxStreams is how many concurrent streams a peer may open on one
	// connection: the number of calls in flight per connection in stream
	// mode (more wait for a stream). Default 1024, as the raw QUIC peer.
	MaxStreams int64
	// MaxIdleTimeout drops a connection silent this long. Default 30s.
	MaxIdleTimeout time.Duration
	// KeepAlivePeriod is how often an idle client sends a QUIC PING.
	// Default 10s; negative disables keep-alives.
	KeepAlivePeriod time.Duration
	// HandshakeIdleTimeout bounds a handshake with a silent peer. Default 5s.
	HandshakeIdleTimeout time.Duration
	// Limits bound what a server admits (connections, frame time, memory
	// for frames being received); see package admit for defaults.
	Limits admit.Limits
	// Logf receives refused connections; default log.Printf.
	Logf func(format string, args ...any)
}

// Transport is rpcbench over QUIC.
type Transport struct {
	opts      Options
	serverTLS *tls.Config
	clientTLS *tls.Config
}

var _ rpcbench.Transport = (*Transport)(nil)

// New returns a transport with opts.
func New(opts Options) (*Transport, error) {
	switch opts.Mode {
	case "":
		opts.Mode = "stream"
	case "stream", "mux":
	default:
		return nil, fmt.Errorf("quic: unknown mode %q (valid: %s)", opts.Mode, strings.Join(Modes, ", "))
	}
	if opts.MuxStreams <= 0 {
		opts.MuxStreams = 1
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = wire.DefaultMaxPayload
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 1024
	}
	if opts.MaxIdleTimeout <= 0 {
		opts.MaxIdleTimeout = 30 * time.Second
	}
	if opts.KeepAlivePeriod == 0 {
		opts.KeepAlivePeriod = 10 * time.Second
	} else if opts.KeepAlivePeriod < 0 {
		opts.KeepAlivePeriod = 0
	}
	if opts.HandshakeIdleTimeout <= 0 {
		opts.HandshakeIdleTimeout = 5 * time.Second
	}
	opts.Limits = opts.Limits.Fill()
	base := opts.TLS
	if base == nil {
		var err error
		if base, err = tlsconf.Load(tlsconf.Settings{}); err != nil {
			return nil, fmt.Errorf("quic: %w", err)
		}
	}
	t := &Transport{opts: opts, serverTLS: base.Clone(), clientTLS: base.Clone()}
	t.serverTLS.NextProtos = []string{ALPNStream, ALPNMux}
	alpn := ALPNStream
	if opts.Mode == "mux" {
		alpn = ALPNMux
	}
	t.clientTLS.NextProtos = []string{alpn}
	return t, nil
}

// Name implements rpcbench.Transport.
func (t *Transport) Name() string { return "quic" }

// Network is the kind of socket under the transport, for what is put in
// its path (the harness's network emulator).
func (t *Transport) Network() string { return "udp" }

// Mode returns the client mode, "stream" or "mux".
func (t *Transport) Mode() string { return t.opts.Mode }

func (t *Transport) serverConfig() *quicgo.Config {
	return &quicgo.Config{
		HandshakeIdleTimeout:  t.opts.HandshakeIdleTimeout,
		MaxIdleTimeout:        t.opts.MaxIdleTimeout,
		MaxIncomingStreams:    t.opts.MaxStreams,
		MaxIncomingUniStreams: -1, // clients open none
		// The client keeps an idle connection alive; a dead client is
		// dropped after MaxIdleTimeout.
	}
}

func (t *Transport) clientConfig() *quicgo.Config {
	return &quicgo.Config{
		HandshakeIdleTimeout:  t.opts.HandshakeIdleTimeout,
		MaxIdleTimeout:        t.opts.MaxIdleTimeout,
		KeepAlivePeriod:       t.opts.KeepAlivePeriod,
		MaxIncomingStreams:    -1, // servers open no bidirectional streams
		MaxIncomingUniStreams: 1,  // the go-away signal (stream mode)
	}
}

// Application and stream error codes on the wire.
const (
	codeNoError   quicgo.ApplicationErrorCode = 0
	codeGoingAway quicgo.ApplicationErrorCode = 0x52b1 // server closing the connection
	codeProtocol  quicgo.ApplicationErrorCode = 0x52b2 // malformed frame
	codeClosed    quicgo.ApplicationErrorCode = 0x52b3 // client closed

	streamCanceled  quicgo.StreamErrorCode = 0x52c1 // call cancelled by the client
	streamGoingAway quicgo.StreamErrorCode = 0x52c2 // server refusing new calls
	streamClosed    quicgo.StreamErrorCode = 0x52c3 // stream closed locally
)

// closeLinger bounds how long a closing server connection waits for its
// client to collect the last replies and hang up.
const closeLinger = time.Second

// Listen implements rpcbench.Transport: one UDP socket, one quic.Transport.
func (t *Transport) Listen(addr string) (rpcbench.Listener, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	prepareSocket(udp)
	tr := &quicgo.Transport{Conn: newCountingConn(udp, &wirestats.Server, false)}
	ln, err := tr.Listen(t.serverTLS, t.serverConfig())
	if err != nil {
		tr.Close()
		udp.Close()
		return nil, fmt.Errorf("quic: listen %s: %w", addr, err)
	}
	recordBuffers(udp)
	return &listener{t: t, udp: udp, tr: tr, ln: ln,
		admit: admit.NewConns("quic", t.opts.Limits, t.opts.Logf), budget: admit.NewBytes(t.opts.Limits.MaxInProgress)}, nil
}

// Dial implements rpcbench.Transport: each connection has its own socket,
// connected to the server so that ICMP errors reach it.
func (t *Transport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	ep, err := t.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if t.opts.Mode == "mux" {
		return newMuxClient(ctx, t, ep)
	}
	return newStreamClient(t, ep), nil
}

// testHookConn, if set by a test, sees every client connection dialled.
var testHookConn func(*quicgo.Conn)

// endpoint is a client's QUIC connection with the socket and quic.Transport
// it owns.
type endpoint struct {
	udp  *net.UDPConn
	tr   *quicgo.Transport
	conn *quicgo.Conn
}

func (t *Transport) dial(ctx context.Context, addr string) (*endpoint, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	udp, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	prepareSocket(udp)
	tr := &quicgo.Transport{Conn: newCountingConn(udp, &wirestats.Client, true)}
	conn, err := tr.Dial(ctx, raddr, tlsconf.ForAddr(t.clientTLS, addr), t.clientConfig())
	if err != nil {
		tr.Close()
		udp.Close()
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, errors.New("quic: connection refused (nothing listens on that UDP port)")
		}
		return nil, fmt.Errorf("quic: %w", err)
	}
	recordBuffers(udp)
	if testHookConn != nil {
		testHookConn(conn)
	}
	return &endpoint{udp: udp, tr: tr, conn: conn}, nil
}

// close ends the connection with code and releases the socket.
func (ep *endpoint) close(code quicgo.ApplicationErrorCode, msg string) {
	ep.conn.CloseWithError(code, msg)
	ep.tr.Close()
	ep.udp.Close()
}

// connErr describes why conn ended.
func connErr(conn *quicgo.Conn) error {
	err := context.Cause(conn.Context())
	if err == nil {
		err = net.ErrClosed
	}
	return fmt.Errorf("quic: connection closed: %w", err)
}
