package rpcbench

import (
	"context"
	"net"

	"rpcbench/codecs"
	"rpcbench/wire"
)

// Codec is the serialization contract; see package codecs.
type Codec = codecs.Codec

// Transport moves frames between clients and servers. It knows nothing of
// codecs or methods. Implementations are safe for concurrent use.
type Transport interface {
	// Name is the transport's registry name ("tcp", "udp", ...).
	Name() string
	// Listen starts accepting connections at addr.
	Listen(addr string) (Listener, error)
	// Dial opens one client connection to addr.
	Dial(ctx context.Context, addr string) (ClientConn, error)
}

// ClientConn is the client side of one connection. Send is safe for
// concurrent use and does not retain f.Payload after it returns; Recv is
// called by one goroutine only, and the returned payload is valid until the
// next Recv. Close makes a blocked Recv return an error.
type ClientConn interface {
	Send(f *wire.Frame) error
	Recv() (wire.Frame, error)
	Close() error
}

// Listener is the server side of a transport. Serve blocks, calling
// h.Connect for each new connection, until Close, after which it returns
// net.ErrClosed. Close stops accepting new connections only: connections
// already open stay up until the server closes their ServerConn, which lets
// a server drain in-flight calls.
type Listener interface {
	Serve(h ConnHandler) error
	Addr() net.Addr
	Close() error
}

// ConnHandler is the server core as a transport sees it.
type ConnHandler interface {
	// Connect is called once per new connection and returns the session
	// that receives the connection's frames.
	Connect(c ServerConn) Session
}

// ServerConn is the server side of one connection. Send is safe for
// concurrent use and does not retain f.Payload after it returns. Close
// drops the connection; the transport then calls the session's Disconnect.
type ServerConn interface {
	Send(f *wire.Frame) error
	Close() error
	RemoteAddr() net.Addr
}

// Session receives one connection's frames. The transport calls Frame from
// one goroutine at a time, in arrival order; f.Payload is valid only during
// the call, and Frame must not block on the network. Disconnect is called
// once, after the last Frame, with the reason the connection ended.
type Session interface {
	Frame(f *wire.Frame)
	Disconnect(err error)
}
