package rpcbench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench/codecs"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

// ClientOptions configures a Client. Zero values select the documented
// defaults.
type ClientOptions struct {
	// Codec names the serialization for Call's values. Default "json".
	Codec string
	// Compression names a compressor ("none", "zstd", ...). Default none.
	Compression string
	// CompressThreshold: requests shorter than this go uncompressed.
	// Default 256 bytes.
	CompressThreshold int
	// Conns is the number of connections calls are spread over. Default 1.
	Conns int
	// HeartbeatInterval: a connection with no incoming frame for this long
	// sends a ping. Default 5s; negative disables heartbeats.
	HeartbeatInterval time.Duration
	// HeartbeatMisses: after this many intervals without any incoming frame
	// the peer is declared dead and pending calls fail. Default 3.
	HeartbeatMisses int
	// MaxPayload caps a reply's decoded payload. Default 16 MiB.
	MaxPayload int
}

func (o *ClientOptions) fill() {
	if o.Codec == "" {
		o.Codec = "json"
	}
	if o.CompressThreshold <= 0 {
		o.CompressThreshold = 256
	}
	if o.Conns <= 0 {
		o.Conns = 1
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.HeartbeatMisses <= 0 {
		o.HeartbeatMisses = 3
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = wire.DefaultMaxPayload
	}
}

// Client calls methods on one server address over a transport. It is safe
// for concurrent use; concurrent calls share its connections.
type Client struct {
	t     Transport
	addr  string
	opts  ClientOptions
	codec Codec
	comp  codecs.Compressor

	slots  []connSlot
	next   atomic.Uint32
	closed atomic.Bool
}

type connSlot struct {
	mu sync.Mutex
	cc atomic.Pointer[clientConn]
}

// Dial returns a client for addr and opens its first connection, so that an
// unreachable server is reported here.
func Dial(ctx context.Context, t Transport, addr string, opts ClientOptions) (*Client, error) {
	c, err := NewClient(t, addr, opts)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn(ctx, 0); err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient returns a client that connects lazily, on its first call.
func NewClient(t Transport, addr string, opts ClientOptions) (*Client, error) {
	opts.fill()
	codec, err := codecs.ByName(opts.Codec)
	if err != nil {
		return nil, err
	}
	comp, err := codecs.CompressorByName(opts.Compression)
	if err != nil {
		return nil, err
	}
	return &Client{t: t, addr: addr, opts: opts, codec: codec, comp: comp, slots: make([]connSlot, opts.Conns)}, nil
}

// Codec returns the client's codec.
func (c *Client) Codec() Codec { return c.codec }

// Close closes every connection; pending calls fail with unavailable.
func (c *Client) Close() error {
	c.closed.Store(true)
	for i := range c.slots {
		s := &c.slots[i]
		s.mu.Lock()
		if cc := s.cc.Load(); cc != nil {
			cc.fail(errClientClosed)
		}
		s.mu.Unlock()
	}
	return nil
}

var errClientClosed = &Error{Code: CodeUnavailable, Message: "client is closed"}

// conn returns the live connection of slot i, dialling if there is none.
func (c *Client) conn(ctx context.Context, i int) (*clientConn, error) {
	s := &c.slots[i]
	if cc := s.cc.Load(); cc != nil && !cc.broken.Load() {
		return cc, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed.Load() {
		return nil, errClientClosed
	}
	if cc := s.cc.Load(); cc != nil && !cc.broken.Load() {
		return cc, nil
	}
	raw, err := c.t.Dial(ctx, c.addr)
	if err != nil {
		// The socket's own error already says "dial tcp ADDR": keep only its cause.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && op.Err != nil {
			err = op.Err
		}
		return nil, &Error{Code: CodeUnavailable, Message: fmt.Sprintf("dial %s %s: %v", c.t.Name(), c.addr, err)}
	}
	cc := newClientConn(raw, &c.opts)
	s.cc.Store(cc)
	return cc, nil
}

// Call invokes method with req and decodes the reply into resp. A deadline
// on ctx travels to the server; cancelling ctx sends a cancel frame.
func (c *Client) Call(ctx context.Context, method string, req, resp any) error {
	call := getCall()
	err := c.invoke(ctx, call, method, req, resp)
	putCall(call)
	return err
}

func (c *Client) invoke(ctx context.Context, call *pendingCall, method string, req, resp any) error {
	cc, err := c.prepare(ctx, call, method, req)
	if err != nil {
		return err
	}
	if ex, ok := cc.conn.(Exchanger); ok {
		return c.exchange(ctx, ex, call, method, resp)
	}
	if err := cc.send(call, method); err != nil {
		return err
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		if cc.abandon(call.req.RequestID) {
			cc.sendCancel(&call.req)
			return canceled(ctx, method)
		}
		<-call.done // the reply is being delivered; take it
	}
	return c.finish(call, method, resp)
}

// canceled is the error of a call whose context ended first.
func canceled(ctx context.Context, method string) *Error {
	return toError(fmt.Errorf("%s: %w", method, ctx.Err()), CodeCanceled)
}

// prepare encodes req into call.req and returns the connection to send it
// on.
func (c *Client) prepare(ctx context.Context, call *pendingCall, method string, req any) (*clientConn, error) {
	if c.closed.Load() {
		return nil, errClientClosed
	}
	var err error
	if call.out, err = c.codec.Marshal(call.out[:0], req); err != nil {
		return nil, Errorf(CodeBadRequest, "%s: encoding %s request: %v", method, c.codec.Name(), err)
	}
	call.req = wire.Frame{Kind: wire.KindRequest, Codec: c.codec.ID(), CallID: CallID(method), Payload: call.out}
	if c.comp != nil && len(call.out) >= c.opts.CompressThreshold {
		if call.tmp, err = c.comp.Compress(call.tmp[:0], call.out); err != nil {
			return nil, Errorf(CodeInternal, "%s: compressing request: %v", method, err)
		}
		call.req.Payload, call.req.Compression = call.tmp, c.comp.ID()
	}
	if len(call.req.Payload) > c.opts.MaxPayload {
		return nil, Errorf(CodeResourceExhausted, "%s: request of %d bytes exceeds the %d-byte limit", method, len(call.req.Payload), c.opts.MaxPayload)
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, &Error{Code: CodeDeadlineExceeded, Message: method + ": deadline passed before the call was sent"}
		}
		call.req.BudgetMicros = wire.Budget(left)
	}
	i := 0
	if len(c.slots) > 1 {
		i = int(c.next.Add(1) % uint32(len(c.slots)))
	}
	return c.conn(ctx, i)
}

// exchange runs the call through the connection's Exchanger.
func (c *Client) exchange(ctx context.Context, ex Exchanger, call *pendingCall, method string, resp any) error {
	err := ex.Exchange(ctx, method, &call.req, call)
	switch {
	case err == nil:
		return c.finish(call, method, resp)
	case ctx.Err() != nil:
		return canceled(ctx, method)
	case c.closed.Load():
		return errClientClosed
	}
	return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("%s: %v", method, err)}
}

// finish turns a delivered reply into resp or an error.
func (c *Client) finish(call *pendingCall, method string, resp any) error {
	if call.err != nil {
		return call.err
	}
	body := call.in
	switch call.kind {
	case wire.KindError:
		code, msg, err := wire.ParseError(body)
		if err != nil {
			return &Error{Code: CodeInternal, Message: method + ": " + err.Error()}
		}
		if Code(code) == CodeUnknownMethod {
			msg = fmt.Sprintf("%q (call ID %#08x): %s", method, call.req.CallID, msg)
		}
		return &Error{Code: Code(code), Message: msg}
	case wire.KindResponse:
	default:
		return &Error{Code: CodeInternal, Message: fmt.Sprintf("%s: unexpected %v frame in reply", method, call.kind)}
	}
	if call.compression != 0 {
		out, tmp, err := codecs.Decompress(call.compression, body, c.opts.MaxPayload)
		if err != nil {
			return toError(err, CodeBadRequest)
		}
		defer bufpool.Put(tmp)
		body = out
	}
	if resp == nil {
		return nil
	}
	if err := c.codec.Unmarshal(body, resp); err != nil {
		return Errorf(CodeBadRequest, "%s: decoding %s reply: %v", method, c.codec.Name(), err)
	}
	return nil
}

// pendingCall is a call waiting for its reply. Calls are pooled: their
// buffers keep their capacity, so steady-state calls do not allocate.
type pendingCall struct {
	req         wire.Frame
	out, tmp    []byte        // request encoding, compressed request
	done        chan struct{} // one token per reply, see deliver
	future      *Future       // the Future of a call started by Go
	kind        wire.Kind
	compression uint8
	in          []byte // reply payload, copied out of the transport's buffer
	err         error
}

// Reply implements Replier: it copies the reply out of the transport's
// buffer, which is valid only during the call.
func (call *pendingCall) Reply(f *wire.Frame) {
	call.kind, call.compression = f.Kind, f.Compression
	call.in = append(call.in[:0], f.Payload...)
}

// deliver hands the reply (or call.err) to whoever waits: the call's
// Future learns of it first, then the token lets Call or Future.Wait take
// it. The call is theirs from then on.
func (call *pendingCall) deliver() {
	if f := call.future; f != nil {
		f.arrive()
	}
	call.done <- struct{}{}
}

var callPool = sync.Pool{New: func() any { return &pendingCall{done: make(chan struct{}, 1)} }}

func getCall() *pendingCall { return callPool.Get().(*pendingCall) }

func putCall(c *pendingCall) {
	if cap(c.out) > bufpool.Max || cap(c.in) > bufpool.Max || cap(c.tmp) > bufpool.Max {
		return
	}
	c.err, c.req.Payload, c.future = nil, nil, nil
	callPool.Put(c)
}

// clientConn multiplexes calls over one transport connection: a table of
// pending calls keyed by request ID, one reader routing replies, and a
// heartbeat watching an idle peer.
type clientConn struct {
	conn ClientConn
	opts *ClientOptions

	mu      sync.Mutex
	pending pendingTable
	err     *Error // why the connection ended

	broken   atomic.Bool
	received atomic.Uint64 // frames, for the heartbeat
	stop     chan struct{}
}

func newClientConn(conn ClientConn, opts *ClientOptions) *clientConn {
	cc := &clientConn{conn: conn, opts: opts, stop: make(chan struct{})}
	go cc.readLoop()
	if opts.HeartbeatInterval > 0 {
		go cc.heartbeat()
	}
	return cc
}

// start assigns the call a request ID and records it as pending.
func (cc *clientConn) start(call *pendingCall) error {
	cc.mu.Lock()
	if cc.err != nil {
		err := cc.err
		cc.mu.Unlock()
		return err
	}
	call.req.RequestID = cc.pending.add(call)
	cc.mu.Unlock()
	return nil
}

// send registers the call as pending and sends its request. On failure
// the connection fails too, and the call is no longer pending.
func (cc *clientConn) send(call *pendingCall, method string) error {
	if err := cc.start(call); err != nil {
		return err
	}
	if err := cc.conn.Send(&call.req); err != nil {
		if !cc.abandon(call.req.RequestID) {
			<-call.done // fail got there first; a pooled call must not keep its token
		}
		cc.fail(&Error{Code: CodeUnavailable, Message: "send: " + err.Error()})
		return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("%s: send: %v", method, err)}
	}
	return nil
}

// abandon removes the call with request ID id if it has not been answered;
// it reports false if its reply is already being delivered (or the ID is
// stale: request IDs are not reused).
func (cc *clientConn) abandon(id uint64) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.pending.take(id) != nil
}

// sendCancel tells the server that the caller of req gave up.
func (cc *clientConn) sendCancel(req *wire.Frame) {
	cancel := wire.Frame{Kind: wire.KindCancel, CallID: req.CallID, RequestID: req.RequestID}
	cc.conn.Send(&cancel)
}

// fail ends the connection: every pending call fails at once with err.
func (cc *clientConn) fail(err *Error) {
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return
	}
	cc.err = err
	cc.broken.Store(true)
	pending := cc.pending.drain()
	cc.mu.Unlock()
	close(cc.stop)
	cc.conn.Close()
	for _, call := range pending {
		call.err = err
		call.deliver()
	}
}

func (cc *clientConn) readLoop() {
	for {
		f, err := cc.conn.Recv()
		if err != nil {
			cc.fail(&Error{Code: CodeUnavailable, Message: "connection lost: " + err.Error()})
			return
		}
		cc.received.Add(1)
		switch f.Kind {
		case wire.KindResponse, wire.KindError:
			cc.mu.Lock()
			call := cc.pending.take(f.RequestID)
			cc.mu.Unlock()
			if call == nil {
				continue // late reply to a call that gave up
			}
			call.Reply(&f)
			call.deliver()
		case wire.KindPing:
			pong := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID}
			cc.conn.Send(&pong)
		}
	}
}

// heartbeat pings an idle peer and declares it dead after HeartbeatMisses
// intervals in which nothing at all arrived.
func (cc *clientConn) heartbeat() {
	t := time.NewTicker(cc.opts.HeartbeatInterval)
	defer t.Stop()
	last, misses := cc.received.Load(), 0
	for {
		select {
		case <-cc.stop:
			return
		case <-t.C:
		}
		n := cc.received.Load()
		if n != last {
			last, misses = n, 0
			continue
		}
		if misses++; misses >= cc.opts.HeartbeatMisses {
			cc.fail(&Error{Code: CodeUnavailable, Message: fmt.Sprintf("peer did not answer heartbeats for %v", time.Duration(misses)*cc.opts.HeartbeatInterval)})
			return
		}
		ping := wire.Frame{Kind: wire.KindPing}
		if err := cc.conn.Send(&ping); err != nil {
			cc.fail(&Error{Code: CodeUnavailable, Message: "heartbeat: " + err.Error()})
			return
		}
	}
}
