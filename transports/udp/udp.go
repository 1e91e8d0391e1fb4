package udp

import (
	"context"
	"net"
	"strings"

	"rpcbench"
)

// Transport is RPC over UDP. Addresses are "host:port", optionally with a
// "udp://" prefix.
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
func (t *Transport) Name() string { return "udp" }

// Network is the kind of socket under the transport, for what is put in
// its path (the harness's network emulator).
func (t *Transport) Network() string { return "udp" }

// Options returns the transport's settings with defaults filled in.
func (t *Transport) Options() Options { return t.opts }

func trimScheme(addr string) string { return strings.TrimPrefix(addr, "udp://") }

// Dial implements rpcbench.Transport: it opens a connected socket to addr
// and waits for the server to answer a ping.
func (t *Transport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	ra, err := net.ResolveUDPAddr("udp", trimScheme(addr))
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		return nil, err
	}
	uc.SetReadBuffer(t.opts.SocketBuffer)
	uc.SetWriteBuffer(t.opts.SocketBuffer)
	rtt, err := handshake(ctx, uc, &t.opts)
	if err != nil {
		uc.Close()
		return nil, err
	}
	cc, err := newClientConn(uc, &t.opts, rtt)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return cc, nil
}

// Listen implements rpcbench.Transport.
func (t *Transport) Listen(addr string) (rpcbench.Listener, error) {
	if t.opts.Engine == "gnet" {
		return listenGnet(t, trimScheme(addr))
	}
	return listenNet(t, trimScheme(addr))
}
