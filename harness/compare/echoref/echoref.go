// Package echoref registers "tcp-echo", the reference the regression gate
// divides timing figures by: rpcbench's own TCP transport (same sockets,
// framing, write coalescing and client) with the server core replaced by
// an echo of each request frame. No method table, codec, handler or
// reply encoding runs on the server side.
//
// Why a reference outside the server core: the gate judges a cell's
// latency, throughput and CPU as ratios to a reference cell measured in
// the same repetition, so that a slower or busier machine cancels out. If
// the reference were served by the same core, a regression that slows
// every call by the same amount (a lock, a copy, a sleep) would slow the
// reference too and cancel out as well. This reference shares the
// machine's noise (loopback, scheduler, the client, pinning, the server
// process) but not the code the gate guards. Regressions in the TCP
// transport or the client core do reach it and are diluted in the ratio;
// a raw-socket peer with its own client (peers/) would be a stricter
// reference for those.
//
// A request's payload comes back unchanged in a response frame, so any
// codec and payload verifies as a correct echo of the benchmark's echo
// methods. Pings are answered; cancels are ignored (the echo is already
// on its way).
package echoref

import (
	"context"
	"net"
	"sync"

	"rpcbench"
	"rpcbench/transports"
	_ "rpcbench/transports/tcp" // echoref wraps "tcp"
	"rpcbench/wire"
)

// Name is the registered transport name.
const Name = "tcp-echo"

func init() {
	transports.Register(Name, func(o transports.Options) (rpcbench.Transport, error) {
		inner, err := transports.New("tcp", o)
		if err != nil {
			return nil, err
		}
		return echoTransport{inner}, nil
	})
}

// echoTransport is the TCP transport whose listeners echo instead of
// handing connections to the server.
type echoTransport struct{ inner rpcbench.Transport }

var _ rpcbench.Transport = echoTransport{}

func (echoTransport) Name() string { return Name }

func (t echoTransport) Dial(ctx context.Context, addr string) (rpcbench.ClientConn, error) {
	return t.inner.Dial(ctx, addr)
}

func (t echoTransport) Listen(addr string) (rpcbench.Listener, error) {
	l, err := t.inner.Listen(addr)
	if err != nil {
		return nil, err
	}
	return echoListener{l}, nil
}

// echoListener ignores the server core it is given.
type echoListener struct{ inner rpcbench.Listener }

func (l echoListener) Serve(rpcbench.ConnHandler) error { return l.inner.Serve(echoHandler{}) }
func (l echoListener) Addr() net.Addr                   { return l.inner.Addr() }
func (l echoListener) Close() error                     { return l.inner.Close() }

type echoHandler struct{}

func (echoHandler) Connect(c rpcbench.ServerConn) rpcbench.Session { return &echoSession{conn: c} }

// echoSession answers each request from its own goroutine, as the server
// core does, so that concurrent replies coalesce into shared writes the
// same way; an inline echo from the reader would serialise reads and
// writes and make a poor reference at high concurrency.
type echoSession struct{ conn rpcbench.ServerConn }

var payloads = sync.Pool{New: func() any { return new([]byte) }}

func (s *echoSession) Frame(f *wire.Frame) {
	switch f.Kind {
	case wire.KindRequest:
		b := payloads.Get().(*[]byte)
		*b = append((*b)[:0], f.Payload...) // f.Payload dies when Frame returns
		out := wire.Frame{Kind: wire.KindResponse, Codec: f.Codec, Compression: f.Compression,
			CallID: f.CallID, RequestID: f.RequestID}
		go s.reply(out, b)
	case wire.KindPing:
		pong := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID}
		s.conn.Send(&pong)
	}
}

func (s *echoSession) reply(out wire.Frame, b *[]byte) {
	out.Payload = *b
	s.conn.Send(&out)
	payloads.Put(b)
}

func (s *echoSession) Disconnect(error) {}
