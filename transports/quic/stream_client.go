package quic

import (
	"context"
	"errors"
	"sync"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/internal/bufpool"
	"rpcbench/internal/workerpool"
	"rpcbench/wire"
)

// Stream mode, client side.

// streamClient opens a stream per request. Send writes the request on a new
// stream; a pooled reader per call waits for the reply and queues it for
// Recv.
type streamClient struct {
	ep         *endpoint
	maxPayload int
	readers    *workerpool.Pool[awaitJob]
	replies    chan *reply
	last       *reply // returned by the previous Recv

	mu        sync.Mutex
	calls     map[uint64]*clientCall
	goingAway bool

	closeOnce sync.Once
}

// clientCall is a request waiting for its reply; str is nil while the call
// waits for stream credit.
type clientCall struct {
	str *quicgo.Stream
}

// awaitJob is a call whose reply a reader waits for.
type awaitJob struct {
	str  *quicgo.Stream
	id   uint64
	call *clientCall
}

// reply is a received frame and the buffer its payload lives in.
type reply struct {
	f   wire.Frame
	buf *[]byte
}

var replyPool = sync.Pool{New: func() any { return &reply{buf: bufpool.Get()} }}

func putReply(r *reply) {
	r.f = wire.Frame{}
	if cap(*r.buf) > bufpool.Max {
		r.buf = bufpool.Get()
	}
	replyPool.Put(r)
}

var errGoingAway = errors.New("quic: the server is going away")

var _ rpcbench.ClientConn = (*streamClient)(nil)

func newStreamClient(t *Transport, ep *endpoint) *streamClient {
	c := &streamClient{ep: ep, maxPayload: t.opts.MaxPayload, replies: make(chan *reply, 256), calls: map[uint64]*clientCall{}}
	c.readers = workerpool.New(func(j awaitJob) { c.await(j.str, j.id, j.call) }, workerpool.Options{Done: ep.conn.Context().Done(), MaxParked: maxParkedReaders})
	go c.watchGoAway()
	return c
}

// watchGoAway waits for the server's go-away stream.
func (c *streamClient) watchGoAway() {
	if _, err := c.ep.conn.AcceptUniStream(context.Background()); err != nil {
		return
	}
	c.mu.Lock()
	c.goingAway = true
	idle := len(c.calls) == 0
	c.mu.Unlock()
	if idle {
		c.ep.conn.CloseWithError(codeNoError, "server went away")
	}
}

// Send implements rpcbench.ClientConn.
func (c *streamClient) Send(f *wire.Frame) error {
	conn := c.ep.conn
	if conn.Context().Err() != nil {
		return connErr(conn)
	}
	switch f.Kind {
	case wire.KindRequest, wire.KindPing:
	case wire.KindCancel:
		c.mu.Lock()
		call := c.calls[f.RequestID]
		delete(c.calls, f.RequestID)
		c.mu.Unlock()
		if call != nil && call.str != nil {
			call.str.CancelRead(streamCanceled)
			call.str.CancelWrite(streamCanceled)
		}
		c.maybeHangUp()
		return nil
	default:
		return nil // pongs: servers do not ping stream-mode clients
	}
	var call *clientCall
	c.mu.Lock()
	if c.goingAway {
		c.mu.Unlock()
		if f.Kind == wire.KindPing {
			return nil // the hang-up comes soon; do not fail calls still being answered
		}
		return errGoingAway
	}
	if f.Kind == wire.KindRequest {
		call = &clientCall{}
		c.calls[f.RequestID] = call
	}
	c.mu.Unlock()
	b := appendFrame(f)
	str, err := conn.OpenStream()
	if err != nil {
		var limit *quicgo.StreamLimitReachedError
		if !errors.As(err, &limit) {
			c.forget(f.RequestID, call)
			bufpool.Put(b)
			return err
		}
		// Out of stream credit: wait for it off the caller's goroutine.
		go c.sendLater(f.RequestID, call, b)
		return nil
	}
	if err := c.start(str, f.RequestID, call, b); err != nil {
		c.forget(f.RequestID, call)
		return err
	}
	return nil
}

// sendLater waits for stream credit, then sends the call.
func (c *streamClient) sendLater(id uint64, call *clientCall, b *[]byte) {
	str, err := c.ep.conn.OpenStreamSync(c.ep.conn.Context())
	if err != nil {
		bufpool.Put(b)
		c.failCall(id, call, err)
		return
	}
	if err := c.start(str, id, call, b); err != nil {
		c.failCall(id, call, err)
	}
}

// start writes the request on str and hands the reply wait to a goroutine.
func (c *streamClient) start(str *quicgo.Stream, id uint64, call *clientCall, b *[]byte) error {
	if call != nil {
		c.mu.Lock()
		if c.calls[id] != call {
			c.mu.Unlock() // cancelled while waiting for credit
			bufpool.Put(b)
			str.CancelWrite(streamCanceled)
			str.CancelRead(streamCanceled)
			return nil
		}
		call.str = str
		c.mu.Unlock()
	}
	_, err := str.Write(*b)
	bufpool.Put(b)
	if err == nil {
		err = str.Close()
	}
	if err != nil {
		str.CancelRead(streamCanceled)
		str.CancelWrite(streamCanceled)
		return err
	}
	c.readers.Dispatch(awaitJob{str, id, call})
	return nil
}

// await reads the reply of one call and queues it for Recv. The call stays
// in the table until its reply is queued, so that a hang-up after the last
// reply cannot overtake it.
func (c *streamClient) await(str *quicgo.Stream, id uint64, call *clientCall) {
	r := replyPool.Get().(*reply)
	f, err := readFrame(str, r.buf, c.maxPayload, nil)
	if err != nil {
		putReply(r)
		if call == nil || c.ep.conn.Context().Err() != nil {
			// A lost ping is the heartbeat's business; a lost connection
			// Recv's.
			c.forget(id, call)
			c.maybeHangUp()
			return
		}
		c.failCall(id, call, err)
		return
	}
	r.f = f
	c.push(r)
	if call != nil {
		c.forget(id, call)
		c.maybeHangUp()
	}
}

// push queues r for Recv, unless the connection is gone and Recv with it.
func (c *streamClient) push(r *reply) {
	select {
	case c.replies <- r:
		return
	default:
	}
	select {
	case c.replies <- r:
	case <-c.ep.conn.Context().Done():
		putReply(r)
	}
}

// failCall answers a call whose stream failed with an unavailable error;
// a call cancelled meanwhile is left alone.
func (c *streamClient) failCall(id uint64, call *clientCall, err error) {
	if call == nil {
		return // a ping
	}
	c.mu.Lock()
	mine := c.calls[id] == call
	c.mu.Unlock()
	if !mine {
		return
	}
	msg := "quic: call stream failed: " + err.Error()
	var serr *quicgo.StreamError
	if errors.As(err, &serr) && serr.ErrorCode == streamGoingAway {
		msg = errGoingAway.Error()
		c.mu.Lock()
		c.goingAway = true
		c.mu.Unlock()
	}
	r := replyPool.Get().(*reply)
	*r.buf = wire.AppendError((*r.buf)[:0], uint16(rpcbench.CodeUnavailable), msg)
	r.f = wire.Frame{Kind: wire.KindError, RequestID: id, Payload: *r.buf}
	c.push(r)
	c.forget(id, call)
	c.maybeHangUp()
}

// forget removes a call; it reports whether the call was still pending.
func (c *streamClient) forget(id uint64, call *clientCall) bool {
	if call == nil {
		return false
	}
	c.mu.Lock()
	mine := c.calls[id] == call
	if mine {
		delete(c.calls, id)
	}
	c.mu.Unlock()
	return mine
}

// maybeHangUp closes the connection once the server went away and the last
// reply is in.
func (c *streamClient) maybeHangUp() {
	c.mu.Lock()
	hangUp := c.goingAway && len(c.calls) == 0
	c.mu.Unlock()
	if hangUp {
		go c.ep.conn.CloseWithError(codeNoError, "server went away")
	}
}

// Recv implements rpcbench.ClientConn.
func (c *streamClient) Recv() (wire.Frame, error) {
	if c.last != nil {
		putReply(c.last)
		c.last = nil
	}
	select {
	case r := <-c.replies:
		c.last = r
		return r.f, nil
	case <-c.ep.conn.Context().Done():
		// Replies that arrived before the end still count.
		select {
		case r := <-c.replies:
			c.last = r
			return r.f, nil
		default:
		}
		return wire.Frame{}, connErr(c.ep.conn)
	}
}

// Close implements rpcbench.ClientConn.
func (c *streamClient) Close() error {
	c.closeOnce.Do(func() { c.ep.close(codeClosed, "client closed") })
	return nil
}
