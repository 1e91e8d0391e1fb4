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

// Optional capabilities. A transport whose connections carry one call at a
// time (HTTP/1.1) can skip the goroutine hand-offs of Send/Recv and Frame
// by implementing these; the core finds them by type assertion and falls
// back to the interfaces above without them. HTTP addresses methods by
// name, which frames do not carry (only the call ID), so the name travels
// beside the frame here.

// Exchanger is an optional capability of a ClientConn: a call that runs on
// the caller's goroutine instead of through Send and the shared Recv loop.
// Exchange sends request f for method ("Service.Method") and hands
// reply.Reply the reply frame, or an error frame for a failure of the
// exchange; the reply's payload is valid only during that call. It
// returns an error only when ctx ends first or the connection is closed.
// f.RequestID names the call for cancels; 0 lets the transport pick a
// name. Exchange is safe for concurrent use, with Send and Close too. A
// ClientConn that implements Exchanger receives request frames only
// through Exchange; Send carries the other kinds (pings, cancels).
type Exchanger interface {
	Exchange(ctx context.Context, method string, f *wire.Frame, reply Replier) error
}

// Replier receives the reply of an Exchange, on the goroutine that called
// it. An interface rather than a func so that the core's pooled call can
// take its reply without a closure allocated per call.
type Replier interface {
	Reply(f *wire.Frame)
}

// ReplyFunc adapts a function to Replier.
type ReplyFunc func(f *wire.Frame)

// Reply calls r(f).
func (r ReplyFunc) Reply(f *wire.Frame) { r(f) }

// InlineSession is an optional capability of a Session: Begin accepts a
// request as Frame would, but returns the call for the transport to run on
// its own goroutine instead of one of the core's, or nil when the request
// was answered at once (unknown method, draining, ...). method, when the
// transport knows it, names the call in an unknown-method error. Begin
// follows Frame's rule (one goroutine at a time, with Frame), except that
// f.Payload must stay valid until the call's Run returns: the core does
// not copy it. Frame (cancels) may be called while Run runs.
type InlineSession interface {
	Begin(f *wire.Frame, method string) InlineCall
}

// InlineCall is a call accepted by InlineSession.Begin. Run runs it once,
// on the transport's goroutine; its reply goes through ServerConn.Send
// before Run returns.
type InlineCall interface {
	Run()
}
