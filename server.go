package rpcbench

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench/codecs"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

// ServerOptions configures a Server. Zero values select the documented
// defaults.
type ServerOptions struct {
	// MaxInflightPerConn caps concurrent calls on one connection; calls over
	// the cap get a resource-exhausted error. Default 4096.
	MaxInflightPerConn int
	// MaxPayload caps a request's decoded payload. Default 16 MiB.
	MaxPayload int
	// CompressThreshold: replies shorter than this go uncompressed even when
	// the request was compressed. Default 256 bytes.
	CompressThreshold int
	// NoInline runs every call on a worker goroutine, including those of
	// methods declared Inline: to measure what Inline saves, or to keep a
	// connection's reader free whatever its handlers do.
	NoInline bool
	// Logf receives connection-level problems; default log.Printf. Set it
	// to a no-op to silence the server.
	Logf func(format string, args ...any)
}

func (o *ServerOptions) fill() {
	if o.MaxInflightPerConn <= 0 {
		o.MaxInflightPerConn = 4096
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = wire.DefaultMaxPayload
	}
	if o.CompressThreshold <= 0 {
		o.CompressThreshold = 256
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
}

// Server dispatches calls arriving on any number of listeners to one method
// table.
type Server struct {
	opts    ServerOptions
	methods atomic.Pointer[methodTable]
	regMu   sync.Mutex // serialises registrations

	mu        sync.Mutex
	listeners map[Listener]struct{}
	sessions  map[*serverSession]struct{}
	closed    bool // listeners closed: no more accepting
	done      bool // connections closed too

	draining atomic.Bool
	inflight atomic.Int64
	idle     chan struct{} // signalled when inflight drops to zero while draining

	work     chan *serverCall // hands calls to parked workers
	quit     chan struct{}    // closed when the server is done: parked workers exit
	quitOnce sync.Once

	calls, failed atomic.Uint64
}

// NewServer returns a server with an empty method table.
func NewServer(opts ServerOptions) *Server {
	opts.fill()
	s := &Server{
		opts:      opts,
		listeners: map[Listener]struct{}{},
		sessions:  map[*serverSession]struct{}{},
		idle:      make(chan struct{}, 1),
		work:      make(chan *serverCall),
		quit:      make(chan struct{}),
	}
	s.methods.Store(&methodTable{})
	return s
}

func (s *Server) register(name string, opts []MethodOption, fn handlerFunc) error {
	if err := checkMethodName(name); err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.methods.Load()
	id := CallID(name)
	if m, ok := old[id]; ok {
		if m.name == name {
			return fmt.Errorf("rpcbench: method %q registered twice", name)
		}
		return fmt.Errorf("rpcbench: method %q has call ID %#08x, which %q already has", name, id, m.name)
	}
	table := make(methodTable, len(old)+1)
	for k, v := range old {
		table[k] = v
	}
	m := &method{name: name, id: id, fn: fn}
	for _, o := range opts {
		o(m)
	}
	table[id] = m
	s.methods.Store(&table)
	return nil
}

// Methods lists the registered method names.
func (s *Server) Methods() []string {
	var names []string
	for _, m := range *s.methods.Load() {
		names = append(names, m.name)
	}
	return names
}

// ServerStats are counters since the server started.
type ServerStats struct {
	Calls    uint64 // requests dispatched to a handler
	Failed   uint64 // of which answered with an error
	Inflight int64
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{Calls: s.calls.Load(), Failed: s.failed.Load(), Inflight: s.inflight.Load()}
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("rpcbench: server closed")

// Serve serves calls from l until the server is shut down. It returns
// ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(l Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	err := l.Serve(s)
	s.mu.Lock()
	delete(s.listeners, l)
	closed := s.closed
	s.mu.Unlock()
	if closed || errors.Is(err, net.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting connections, answers calls that arrive from now
// on with an unavailable error, waits for in-flight calls to finish, then
// closes every connection. If ctx ends first, connections are closed at
// once and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.closeListeners()
	var err error
	for s.inflight.Load() > 0 && err == nil {
		select {
		case <-s.idle:
		case <-time.After(5 * time.Millisecond): // a missed signal only delays us
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.closeSessions()
	s.stopWorkers()
	return err
}

// Close closes listeners and connections at once; in-flight calls are
// abandoned.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.closeListeners()
	s.closeSessions()
	s.stopWorkers()
	return nil
}

func (s *Server) stopWorkers() { s.quitOnce.Do(func() { close(s.quit) }) }

// workerIdle is how long a worker stays parked before it exits.
const workerIdle = 20 * time.Second

// dispatch runs c on a parked worker if one is waiting, else on a new one.
// Reusing goroutines saves an allocation per call and keeps grown stacks.
func (s *Server) dispatch(c *serverCall) {
	select {
	case s.work <- c:
	default:
		go s.worker(c)
	}
}

func (s *Server) worker(c *serverCall) {
	var t *time.Timer
	for {
		c.run()
		if t == nil {
			t = time.NewTimer(workerIdle)
		} else {
			t.Reset(workerIdle)
		}
		select {
		case c = <-s.work:
		case <-t.C:
			return
		case <-s.quit:
			t.Stop()
			return
		}
	}
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	s.closed = true
	ls := make([]Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

func (s *Server) closeSessions() {
	s.mu.Lock()
	s.done = true
	ss := make([]*serverSession, 0, len(s.sessions))
	for x := range s.sessions {
		ss = append(ss, x)
	}
	s.mu.Unlock()
	for _, x := range ss {
		x.conn.Close()
	}
}

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
	c := x.start(f, fromFrame)
	switch {
	case c == nil:
	case c.inline:
		c.run()
	default:
		x.srv.dispatch(c)
	}
}

// Begin implements the optional inline path of transports that carry one
// call per connection at a time (HTTP/1.1): it accepts a request as Frame
// would, but returns the call for the transport to run on its own
// goroutine, or nil when the request was answered at once. The reply goes
// through ServerConn.Send before Run returns. f.Payload must stay valid
// until Run returns: the call does not copy it.
func (x *serverSession) Begin(f *wire.Frame) interface{ Run() } {
	if c := x.start(f, fromBegin); c != nil {
		return c
	}
	return nil
}

// Run runs the call on the caller's goroutine (see Begin).
func (c *serverCall) Run() { c.run() }

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
// keep the transport's payload. An injected delay (a simulated slow
// handler, SetInjectedDelay) breaks Inline's promise not to block, so
// calls go to workers while it lasts.
func (x *serverSession) start(f *wire.Frame, mode startMode) *serverCall {
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
		if f.Method != "" {
			msg = fmt.Sprintf("no method %q (call ID %#08x)", f.Method, f.CallID)
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
	if mode == fromFrame && m.inline && !s.opts.NoInline && injected.delay.Load() == 0 {
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

func (s *Server) callDone() {
	if s.inflight.Add(-1) == 0 && s.draining.Load() {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// serverCall is one call in flight: the request, its context and its reply
// buffer, in one allocation.
type serverCall struct {
	ctx   callCtx
	sess  *serverSession
	m     *method
	codec Codec
	req   wire.Frame
	buf   *[]byte
	resp  wire.Frame
	// inline: the call runs on the connection's reader (see Inline), holds
	// no copy of its payload and is not in the session's table.
	inline bool
}

func (c *serverCall) run() {
	x := c.sess
	out := bufpool.Get()
	payload, err := c.invoke(out)
	if !c.inline {
		x.mu.Lock()
		delete(x.calls, c.req.RequestID)
		x.mu.Unlock()
	}
	canceled, untouched := c.ctx.end() // also stops a deadline timer
	// (a live context ends here, so handler goroutines holding it stop too)
	switch {
	case canceled:
		// The caller gave up; it would discard the reply.
	case err != nil:
		e := toError(err, CodeApplication)
		x.replyError(&c.req, e.Code, e.Message)
	default:
		c.resp = wire.Frame{Kind: wire.KindResponse, Codec: c.req.Codec, Compression: c.resp.Compression,
			CallID: c.req.CallID, RequestID: c.req.RequestID, Payload: payload}
		x.conn.Send(&c.resp)
	}
	bufpool.Put(out)
	c.release()
	x.srv.callDone()
	if c.inline && untouched {
		*c = serverCall{}
		inlineCalls.Put(c)
	}
}

// inlineCalls recycles the state of inline calls, which nothing refers to
// once they have run (Inline: the handler's context is valid only until it
// returns), except a context whose Done channel or deadline timer the
// handler asked for: those calls are left to the garbage collector.
var inlineCalls = sync.Pool{New: func() any { return new(serverCall) }}

// release returns the call's copy of its payload, if it made one.
func (c *serverCall) release() {
	if c.buf != nil {
		bufpool.Put(c.buf)
		c.buf = nil
	}
}

// invoke decompresses, runs the handler with panic recovery, and compresses
// the reply into out.
func (c *serverCall) invoke(out *[]byte) (payload []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.sess.srv.opts.Logf("rpcbench: panic in %s: %v\n%s", c.m.name, r, debug.Stack())
			err = Errorf(CodeInternal, "%s: handler panicked: %v", c.m.name, r)
		}
	}()
	req := c.req.Payload
	if c.req.Compression != 0 {
		var tmp *[]byte
		if req, tmp, err = decompress(c.req.Compression, req, c.sess.srv.opts.MaxPayload); err != nil {
			return nil, err
		}
		defer bufpool.Put(tmp)
	}
	if c.codec == nil {
		c.codec = codecs.Raw{}
	}
	body, err := c.m.fn(&c.ctx, c.codec, req, (*out)[:0])
	if err != nil {
		return nil, err
	}
	if injecting.Load() {
		body = injected.apply(body)
	}
	*out = body
	if len(body) > c.sess.srv.opts.MaxPayload {
		return nil, Errorf(CodeResourceExhausted, "%s: reply of %d bytes exceeds the %d-byte limit", c.m.name, len(body), c.sess.srv.opts.MaxPayload)
	}
	c.resp.Compression = 0
	if c.req.Compression != 0 && len(body) >= c.sess.srv.opts.CompressThreshold {
		tmp := bufpool.Get()
		defer bufpool.Put(tmp)
		if *tmp, err = codecs.CompressorByID(c.req.Compression).Compress((*tmp)[:0], body); err != nil {
			return nil, Errorf(CodeInternal, "%s: compressing reply: %v", c.m.name, err)
		}
		*out = append((*out)[:0], *tmp...)
		c.resp.Compression = c.req.Compression
	}
	return *out, nil
}

// decompress returns the decompressed payload in a pooled buffer that the
// caller must release.
func decompress(id uint8, src []byte, limit int) ([]byte, *[]byte, error) {
	comp := codecs.CompressorByID(id)
	if comp == nil {
		return nil, nil, Errorf(CodeBadRequest, "unknown compression ID %d", id)
	}
	b := bufpool.Get()
	out, err := comp.Decompress((*b)[:0], src, limit)
	if err != nil {
		bufpool.Put(b)
		return nil, nil, Errorf(CodeBadRequest, "decompressing %s payload: %v", comp.Name(), err)
	}
	*b = out
	return out, b, nil
}
