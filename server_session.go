package rpcbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"rpcbench/codecs"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

// Connect implements ConnHandler.
func (s *Server) Connect(c ServerConn) Session {
	x := &serverSession{srv: s, conn: c, calls: map[uint64]*serverCall{}}
	s.mu.Lock()
	done := s.done
	s.sessions[x] = struct{}{}
	s.mu.Unlock()
	if done { // a connection that raced with the end of Shutdown or Close
		c.Close()
	}
	return x
}

// serverSession is the server's state for one connection.
type serverSession struct {
	srv  *Server
	conn ServerConn

	mu    sync.Mutex
	calls map[uint64]*serverCall // in flight, by request ID
	gone  bool
}

// Frame implements Session.
func (x *serverSession) Frame(f *wire.Frame) {
	switch f.Kind {
	case wire.KindRequest:
		x.request(f)
	case wire.KindCancel:
		x.mu.Lock()
		c := x.calls[f.RequestID]
		x.mu.Unlock()
		if c != nil {
			c.ctx.cancel(context.Canceled)
		}
	case wire.KindPing:
		pong := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID}
		x.conn.Send(&pong)
	case wire.KindPong:
	default:
		x.srv.opts.Logf("rpcbench: %v sent a %v frame to a server; dropping the connection", x.conn.RemoteAddr(), f.Kind)
		x.conn.Close()
	}
}

// Disconnect implements Session: calls still running lose their caller.
func (x *serverSession) Disconnect(error) {
	x.mu.Lock()
	x.gone = true
	calls := make([]*serverCall, 0, len(x.calls))
	for _, c := range x.calls {
		calls = append(calls, c)
	}
	x.mu.Unlock()
	for _, c := range calls {
		c.ctx.cancel(context.Canceled)
	}
	x.srv.mu.Lock()
	delete(x.srv.sessions, x)
	x.srv.mu.Unlock()
}

func (x *serverSession) request(f *wire.Frame) {
	c := x.start(f, "", fromFrame)
	switch {
	case c == nil:
	case c.inline:
		c.run()
	default:
		x.srv.workers.Dispatch(c)
	}
}

var _ InlineSession = (*serverSession)(nil)

// Begin implements InlineSession: the request becomes a call in flight
// that the transport runs; f.Payload stays the transport's, and method
// names the call in an unknown-method error.
func (x *serverSession) Begin(f *wire.Frame, method string) InlineCall {
	if c := x.start(f, method, fromBegin); c != nil {
		return c
	}
	return nil
}

// How a request reached start.
type startMode uint8

const (
	fromFrame startMode = iota // Frame: the payload is valid only during the call to Frame
	fromBegin                  // Begin: the payload stays valid until Run returns
)

// start registers a request as a call in flight, or answers it at once and
// returns nil (draining, unknown method or codec, in-flight limit). A call
// of an Inline method that came through Frame skips the registration: it
// runs before the transport reads on. Begin's calls run later, with
// cancels arriving meanwhile, so they are registered like any other, but
// keep the transport's payload. A reply hook that blocks (a benchmark's
// simulated slow handler, SetReplyHook) breaks Inline's promise not to
// block, so calls go to workers while it does. method, when the transport
// knows it, names the call in an unknown-method error.
func (x *serverSession) start(f *wire.Frame, method string, mode startMode) *serverCall {
	s := x.srv
	s.inflight.Add(1)
	if s.draining.Load() {
		x.replyError(f, CodeUnavailable, "server is shutting down")
		s.callDone()
		return nil
	}
	m := (*s.methods.Load())[f.CallID]
	if m == nil {
		msg := fmt.Sprintf("no method with call ID %#08x", f.CallID)
		if method != "" {
			msg = fmt.Sprintf("no method %q (call ID %#08x)", method, f.CallID)
		}
		x.replyError(f, CodeUnknownMethod, msg)
		s.callDone()
		return nil
	}
	codec := codecs.ByID(f.Codec)
	if codec == nil && f.Codec != 0 {
		x.replyError(f, CodeBadRequest, fmt.Sprintf("unknown codec ID %d", f.Codec))
		s.callDone()
		return nil
	}
	var c *serverCall
	if mode == fromFrame && m.inline && !s.opts.NoInline && !s.hookBlocks() {
		c = inlineCalls.Get().(*serverCall)
		c.inline = true
	} else {
		c = new(serverCall)
	}
	c.sess, c.m, c.codec, c.req = x, m, codec, *f
	c.ctx.parent = context.Background()
	if f.BudgetMicros > 0 {
		c.ctx.deadline = time.Now().Add(time.Duration(f.BudgetMicros) * time.Microsecond)
	}
	if c.inline {
		// It runs before the reader moves on, so the frame's payload stays
		// valid, and no cancel frame can arrive while it runs: it needs
		// neither a copy nor an entry in the table of calls in flight.
		s.calls.Add(1)
		return c
	}
	if mode == fromFrame {
		c.buf = bufpool.Get()
		*c.buf = append(*c.buf, f.Payload...)
		c.req.Payload = *c.buf
	}

	x.mu.Lock()
	switch {
	case x.gone:
		x.mu.Unlock()
		c.release()
		s.callDone()
		return nil
	case len(x.calls) >= s.opts.MaxInflightPerConn:
		x.mu.Unlock()
		c.release()
		x.replyError(f, CodeResourceExhausted, fmt.Sprintf("more than %d calls in flight on this connection", s.opts.MaxInflightPerConn))
		s.callDone()
		return nil
	}
	x.calls[f.RequestID] = c
	x.mu.Unlock()
	s.calls.Add(1)
	return c
}

func (x *serverSession) replyError(req *wire.Frame, code Code, msg string) {
	x.srv.failed.Add(1)
	b := bufpool.Get()
	*b = wire.AppendError(*b, uint16(code), msg)
	f := wire.Frame{Kind: wire.KindError, Codec: req.Codec, CallID: req.CallID, RequestID: req.RequestID, Payload: *b}
	x.conn.Send(&f)
	bufpool.Put(b)
}
