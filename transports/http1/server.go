package http1

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/transports/admit"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// listener serves HTTP on one socket. It runs its own accept loop and one
// fasthttp ServeConn per connection, rather than fasthttp's Serve, so that it
// owns every goroutine it starts: Close stops accepting, and connections
// end when the server core closes them (after draining) or their peer does.
type listener struct {
	t     *Transport
	nl    net.Listener
	srv   fasthttp.Server
	h     rpcbench.ConnHandler
	calls callTable
	names nameCache
	admit *admit.Conns
	// bodies is the listener's budget for request bodies being received
	// past a connection's retained buffer (Limits.MaxInProgress).
	bodies *admit.Bytes

	serving atomic.Bool
	closed  atomic.Bool
}

var _ rpcbench.Listener = (*listener)(nil)

func newListener(t *Transport, nl net.Listener) *listener {
	l := &listener{t: t, nl: nl, admit: admit.NewConns("http1", t.opts.Limits, t.opts.Logf),
		bodies: admit.NewBytes(t.opts.Limits.MaxInProgress)}
	l.calls.m = map[callKey]*serverConn{}
	l.srv = fasthttp.Server{
		Handler:                      l.handle,
		ErrorHandler:                 l.handleError,
		MaxRequestBodySize:           t.opts.MaxPayload,
		IdleTimeout:                  t.opts.IdleTimeout,
		ReadTimeout:                  t.opts.ReadTimeout,
		WriteTimeout:                 t.opts.WriteTimeout,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		DisablePreParseMultipartForm: true,
		// Bodies are read by call, into memory that grows with the bytes
		// received rather than the Content-Length announced.
		StreamRequestBody: true,
		Logger:            logger(t.opts.Logf),
	}
	return l
}

type logger func(format string, args ...any)

func (f logger) Printf(format string, args ...any) { f(format, args...) }

func (l *listener) Addr() net.Addr { return l.nl.Addr() }

// Close stops accepting. Open connections stay up until the server core
// closes them, so that in-flight calls can finish.
func (l *listener) Close() error {
	l.closed.Store(true)
	return l.nl.Close()
}

// Serve accepts connections until Close, then returns net.ErrClosed.
func (l *listener) Serve(h rpcbench.ConnHandler) error {
	if !l.serving.CompareAndSwap(false, true) {
		return errors.New("http1: Serve called twice on one listener")
	}
	l.h = h
	var backoff time.Duration
	for {
		nc, err := l.nl.Accept()
		if err != nil {
			if l.closed.Load() || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // e.g. out of file descriptors
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !l.admit.Admit(nc.RemoteAddr()) {
			nc.Close()
			continue
		}
		go func() {
			l.serveConn(nc)
			l.admit.Release(nc.RemoteAddr())
		}()
	}
}

func (l *listener) serveConn(raw net.Conn) {
	sc := &serverConn{l: l, remote: raw.RemoteAddr(), done: make(chan struct{}, 1), closing: make(chan struct{}),
		bodies: admit.Within(l.bodies, l.t.opts.Limits.MaxInProgressPerConn)}
	sc.sock = &serverSock{Conn: raw, sc: sc, frameTimeout: l.t.opts.Limits.FrameTimeout}
	var c net.Conn = sc.sock
	if l.t.opts.TLS != nil {
		c = tls.Server(sc.sock, l.t.opts.TLS)
	} else {
		sc.sock.sniff = true
	}
	sc.sess = l.h.Connect(sc)
	// ServeConn closes c, which ends the session (serverSock.Close).
	l.srv.ServeConn(c) //nolint:errcheck // a client's broken connection is not the server's error
}

// connOf finds the serverConn of a request.
func connOf(ctx *fasthttp.RequestCtx) *serverConn {
	c := ctx.Conn()
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	return c.(*serverSock).sc
}

// handle is fasthttp's request handler. fasthttp does not recover panics;
// this function does, so that no request can take the server down.
func (l *listener) handle(ctx *fasthttp.RequestCtx) {
	defer func() {
		if r := recover(); r != nil {
			l.t.opts.Logf("http1: panic serving %s %q: %v\n%s", ctx.Method(), ctx.Path(), r, debug.Stack())
			writeError(&ctx.Response, StatusOf(rpcbench.CodeInternal), rpcbench.CodeInternal, fmt.Sprintf("http1: internal error: %v", r))
		}
	}()
	// The request's head is in; a body still arriving keeps the frame's
	// deadline (call).
	frameEnd := connOf(ctx).sock.endFrame()
	name, ok := bytes.CutPrefix(ctx.Path(), []byte("/rpc/"))
	if !ok {
		writeError(&ctx.Response, fasthttp.StatusNotFound, rpcbench.CodeBadRequest,
			fmt.Sprintf("http1: no such path %q; calls are POST /rpc/{Service.Method}", ctx.Path()))
		return
	}
	switch string(name) {
	case "_ping":
		l.ping(ctx)
	case "_cancel":
		l.cancel(ctx)
	default:
		l.call(ctx, name, frameEnd)
	}
}

// handleError answers requests fasthttp could not read.
func (l *listener) handleError(ctx *fasthttp.RequestCtx, err error) {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(&ctx.Response, fasthttp.StatusRequestEntityTooLarge, rpcbench.CodeResourceExhausted,
			fmt.Sprintf("http1: request body over the %d-byte limit (MaxPayload)", l.t.opts.MaxPayload))
	case errors.As(err, &ne) && ne.Timeout():
		writeError(&ctx.Response, fasthttp.StatusRequestTimeout, rpcbench.CodeDeadlineExceeded,
			fmt.Sprintf("http1: request not received within %v (ReadTimeout) or %v from its first byte (Limits.FrameTimeout)",
				l.t.opts.ReadTimeout, l.t.opts.Limits.FrameTimeout))
	default:
		writeError(&ctx.Response, fasthttp.StatusBadRequest, rpcbench.CodeBadRequest, "http1: malformed HTTP request: "+err.Error())
	}
}

func methodNotAllowed(ctx *fasthttp.RequestCtx, allow string) {
	writeError(&ctx.Response, fasthttp.StatusMethodNotAllowed, rpcbench.CodeBadRequest,
		fmt.Sprintf("http1: %s %s: use %s", ctx.Method(), ctx.Path(), allow))
	ctx.Response.Header.Set("Allow", allow)
}

// call turns a POST into a request frame for the connection's session and
// waits for the reply.
func (l *listener) call(ctx *fasthttp.RequestCtx, name []byte, frameEnd time.Time) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	h := &ctx.Request.Header
	sc := connOf(ctx)
	codec, ok := sc.codecOf(h.ContentType())
	if !ok {
		writeError(&ctx.Response, fasthttp.StatusUnsupportedMediaType, rpcbench.CodeBadRequest,
			fmt.Sprintf("http1: unsupported Content-Type %q; use one of %s", h.ContentType(), supportedTypes()))
		return
	}
	comp, ok := compressionOf(h.ContentEncoding())
	if !ok {
		writeError(&ctx.Response, fasthttp.StatusUnsupportedMediaType, rpcbench.CodeBadRequest,
			fmt.Sprintf("http1: unsupported Content-Encoding %q", h.ContentEncoding()))
		return
	}
	budget, err := parseBudget(h.Peek(hdrTimeout))
	if err != nil {
		writeError(&ctx.Response, fasthttp.StatusBadRequest, rpcbench.CodeBadRequest, err.Error())
		return
	}
	key, cancelable, err := parseCallKey(h.Peek(hdrCall))
	if err != nil {
		writeError(&ctx.Response, fasthttp.StatusBadRequest, rpcbench.CodeBadRequest, err.Error())
		return
	}
	body, taken, ok := sc.readBody(ctx, frameEnd)
	if !ok {
		sc.bodies.Give(taken)
		return
	}
	method := sc.methodOf(name)
	sc.in = wire.Frame{
		Kind: wire.KindRequest, Codec: codec.ID(), Compression: comp,
		CallID: rpcbench.CallID(method), BudgetMicros: budget,
		Payload: body, // the core copies it during Frame
	}
	sc.exchange(ctx, &sc.in, method, key, cancelable)
	sc.in.Payload = nil
	sc.releaseBody(body, taken)
	// fasthttp keeps a connection's request body buffer for its next
	// request; a large one is let go, or idle connections would hold it.
	ctx.Request.ReleaseBody(retainBody)
}

// retainBody is the largest body buffer a connection keeps between
// requests.
const retainBody = 64 << 10

// codecOf is codecOf(ct), remembered for the connection's next request.
func (c *serverConn) codecOf(ct []byte) (codecs.Codec, bool) {
	if c.lastCodec != nil && bytes.Equal(ct, c.lastType) {
		return c.lastCodec, true
	}
	codec, ok := codecOf(ct)
	if ok {
		c.lastType, c.lastCodec = append(c.lastType[:0], ct...), codec
	}
	return codec, ok
}

// methodOf interns a method name, remembering it for the connection's
// next request.
func (c *serverConn) methodOf(name []byte) string {
	if c.lastMethod == "" || !bytes.Equal(name, c.lastName) {
		c.lastMethod, c.lastName = c.l.names.intern(name), append(c.lastName[:0], name...)
	}
	return c.lastMethod
}

// ping hands a ping frame to the session; the core answers with a pong.
func (l *listener) ping(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		methodNotAllowed(ctx, "GET")
		return
	}
	sc := connOf(ctx)
	sc.in = wire.Frame{Kind: wire.KindPing}
	sc.exchange(ctx, &sc.in, "", callKey{}, false)
}

// cancel delivers a cancel frame to the session running the named call.
func (l *listener) cancel(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		methodNotAllowed(ctx, "POST")
		return
	}
	key, ok, err := parseCallKey(ctx.Request.Header.Peek(hdrCall))
	if err != nil || !ok {
		writeError(&ctx.Response, fasthttp.StatusBadRequest, rpcbench.CodeBadRequest, "http1: /rpc/_cancel needs an "+hdrCall+" header")
		return
	}
	if sc := l.calls.get(key); sc != nil {
		sc.cancel(key)
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// serverConn is one accepted connection as the server core sees it
// (rpcbench.ServerConn), and the state of the one HTTP exchange the
// connection carries at a time.
type serverConn struct {
	l      *listener
	sock   *serverSock
	sess   rpcbench.Session
	remote net.Addr
	in     wire.Frame // the frame of the current exchange (one at a time)

	// The last request's Content-Type and method name, and what they
	// resolved to: a connection's calls mostly repeat both. Used by the
	// connection's handler goroutine only.
	lastType   []byte
	lastCodec  codecs.Codec
	lastName   []byte
	lastMethod string
	// body holds the request body being received (body.go); bodies is
	// the connection's budget for it, within the listener's.
	body   []byte
	bodies *admit.Bytes

	// frameMu serialises Session.Frame calls: the connection's own handler
	// and cancels arriving on other connections both make them.
	frameMu sync.Mutex
	gone    bool // the session has been told of the disconnect

	mu       sync.Mutex
	cur      *fasthttp.RequestCtx // the exchange waiting for a reply, or nil
	reqID    uint64               // its request ID towards the session
	key      callKey              // its name in the listener's call table
	answered bool                 // someone has claimed cur's response
	inline   bool                 // cur runs inline (rpcbench.InlineSession)
	nextID   uint64

	done      chan struct{} // one token per reply claimed by another goroutine
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
}

var _ rpcbench.ServerConn = (*serverConn)(nil)

func (c *serverConn) RemoteAddr() net.Addr { return c.remote }

// Close ends the connection without cutting a response already being
// written: reads stop at once, a waiting exchange answers 503, and fasthttp
// closes the connection once the response in hand is out.
func (c *serverConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.sock.stopReading()
		c.mu.Lock()
		inline, id := c.cur != nil && c.inline, c.reqID
		c.mu.Unlock()
		if inline {
			// The call runs on the connection's goroutine, so the session
			// cannot learn of the close from Disconnect until it returns:
			// cancel it, as Disconnect would. Not on this goroutine: Close
			// may be called from within Frame or Begin.
			go c.frame(&wire.Frame{Kind: wire.KindCancel, RequestID: id})
		}
	})
	return nil
}

// exchange runs one request/reply through the session: f goes to
// Session.Frame, or to Begin with its method name (the request's path),
// and the reply comes back through Send (or a cancel, or Close) into
// ctx.Response.
func (c *serverConn) exchange(ctx *fasthttp.RequestCtx, f *wire.Frame, method string, key callKey, cancelable bool) {
	is, inline := c.sess.(rpcbench.InlineSession)
	if inline = inline && f.Kind == wire.KindRequest; !inline {
		is = nil
	}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	f.RequestID = id
	// From here Close cancels an inline call (once Begin has it).
	c.cur, c.reqID, c.key, c.answered, c.inline = ctx, id, key, false, inline
	c.mu.Unlock()
	if cancelable {
		c.l.calls.add(key, c)
	}
	c.await(is, f, method, id)
	if cancelable {
		c.l.calls.remove(key, c)
	}
	c.mu.Lock()
	c.cur, c.inline = nil, false
	c.mu.Unlock()
}

// await runs f through the session (inline when is is not nil) and returns
// once the exchange has its response.
func (c *serverConn) await(is rpcbench.InlineSession, f *wire.Frame, method string, id uint64) {
	if is != nil {
		c.runInline(is, f, method)
	} else if !c.frame(f) {
		c.claimAndFail(id, "http1: the connection is closing")
		return
	}
	select {
	case <-c.done:
	case <-c.closing:
		c.claimAndFail(id, "http1: the server closed the connection before the call finished")
	}
}

// claimAndFail answers the exchange with unavailable unless another
// goroutine has claimed it, in which case it waits for that reply.
func (c *serverConn) claimAndFail(id uint64, msg string) {
	if ctx := c.claim(id); ctx != nil {
		writeError(&ctx.Response, StatusOf(rpcbench.CodeUnavailable), rpcbench.CodeUnavailable, msg)
		return
	}
	<-c.done
}

// claim takes the right to write the response of exchange id; it returns
// nil if the exchange is over or another goroutine has it.
func (c *serverConn) claim(id uint64) *fasthttp.RequestCtx {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.answered || c.reqID != id {
		return nil
	}
	c.answered = true
	return c.cur
}

// runInline runs a request through the session's Begin, on the
// connection's goroutine: HTTP/1.1 carries one call at a time per
// connection, so running it here saves two goroutine hand-offs per call.
// Begin is serialised with cancels (frameMu), and a Close that came first
// is seen under that lock, so a cancel from Close always finds the call
// registered. The request body stays valid until Run returns (fasthttp
// keeps it until the handler returns), so the core need not copy it.
func (c *serverConn) runInline(is rpcbench.InlineSession, f *wire.Frame, method string) {
	var call rpcbench.InlineCall
	c.frameMu.Lock()
	select {
	case <-c.closing: // exchange answers 503
	default:
		if !c.gone {
			call = is.Begin(f, method)
		}
	}
	c.frameMu.Unlock()
	if call != nil {
		call.Run()
	}
}

// frame hands f to the session unless it has ended. Frames are serialised;
// an inline Serve runs outside this lock, so cancels reach it.
func (c *serverConn) frame(f *wire.Frame) bool {
	c.frameMu.Lock()
	defer c.frameMu.Unlock()
	if c.gone {
		return false
	}
	c.sess.Frame(f)
	return true
}

// Send implements rpcbench.ServerConn: the reply becomes the HTTP response
// of the waiting exchange. A reply nobody waits for any more (its call was
// cancelled, or the connection closed) is dropped.
func (c *serverConn) Send(f *wire.Frame) error {
	ctx := c.claim(f.RequestID)
	if ctx == nil {
		return nil
	}
	// The handler goroutine is parked until done fires, so the response is
	// ours to fill.
	resp := &ctx.Response
	switch f.Kind {
	case wire.KindResponse:
		resp.SetStatusCode(fasthttp.StatusOK)
		resp.Header.SetContentTypeBytes(contentTypeOf(f.Codec))
		if f.Compression != 0 {
			resp.Header.SetContentEncoding(encodingOf(f.Compression))
		}
		if len(f.Payload) <= retainBody {
			resp.SetBody(f.Payload)
		} else {
			// A copy of its own that dies with the response, rather than
			// a body buffer the idle connection would keep grown.
			resp.SetBodyRaw(bytes.Clone(f.Payload))
		}
	case wire.KindError:
		code, msg, err := wire.ParseError(f.Payload)
		if err != nil {
			code, msg = uint16(rpcbench.CodeInternal), "http1: "+err.Error()
		}
		writeError(resp, StatusOf(rpcbench.Code(code)), rpcbench.Code(code), msg)
	case wire.KindPong:
		resp.SetStatusCode(fasthttp.StatusNoContent)
	default:
		writeError(resp, StatusOf(rpcbench.CodeInternal), rpcbench.CodeInternal, fmt.Sprintf("http1: the server sent a %v frame as a reply", f.Kind))
	}
	c.done <- struct{}{}
	return nil
}

// cancel passes a client's cancel to the session, then answers the exchange
// itself: the core sends nothing for a call its caller gave up on.
func (c *serverConn) cancel(key callKey) {
	c.mu.Lock()
	live := c.cur != nil && !c.answered && c.key == key
	id := c.reqID
	c.mu.Unlock()
	if !live {
		return
	}
	c.frame(&wire.Frame{Kind: wire.KindCancel, RequestID: id})
	if ctx := c.claim(id); ctx != nil {
		writeError(&ctx.Response, StatusCanceled, rpcbench.CodeCanceled, "http1: the caller canceled the call")
		c.done <- struct{}{}
	}
}

// disconnect tells the session the connection has ended; it runs once,
// after fasthttp has returned from the connection.
func (c *serverConn) disconnect() {
	c.frameMu.Lock()
	c.gone = true
	c.frameMu.Unlock()
	var err error = io.EOF
	select {
	case <-c.closing:
		err = net.ErrClosed
	default:
	}
	c.sess.Disconnect(err)
}

// serverSock is an accepted socket as fasthttp sees it (beneath TLS, if
// any). It counts bytes, and lets the server end a connection between
// requests without cutting a response still being written: after
// stopReading, reads fail at once and deadlines for reading are ignored,
// while writes go on.
type serverSock struct {
	net.Conn
	sc        *serverConn
	stopped   atomic.Bool
	closeOnce sync.Once
	sniff     bool // check the first byte read looks like HTTP

	// A request's head must arrive within frameTimeout of its first byte
	// (Limits.FrameTimeout), whatever deadline fasthttp sets: its
	// ReadTimeout restarts at that byte. Used by the connection's
	// goroutine only.
	//
	// The frame deadline is armed lazily, before the first read that
	// could block inside a frame: a request whose head and body arrive in
	// the read that starts it (most) then costs no deadline change of its
	// own, only fasthttp's per-request one.
	frameTimeout time.Duration
	inFrame      bool
	armed        bool // the socket's deadline already honours frameEnd
	frameEnd     time.Time
	deadline     time.Time // the last deadline fasthttp asked for
}

// startFrame starts the frame deadline's clock at a request's first byte.
func (s *serverSock) startFrame() {
	s.inFrame, s.armed = true, false
	s.frameEnd = time.Now().Add(s.frameTimeout)
}

// endFrame ends the frame deadline's hold once a request's head is in; it
// returns the deadline the body must still meet (zero: none).
func (s *serverSock) endFrame() time.Time {
	if !s.inFrame {
		return time.Time{}
	}
	s.inFrame = false
	return s.frameEnd
}

// holdBody makes reads of a request's body meet end (its head's frame
// deadline), armed lazily as for the head; endFrame ends the hold.
func (s *serverSock) holdBody(end time.Time) {
	s.inFrame, s.armed, s.frameEnd = true, false, end
}

// arm sets the socket's read deadline to the earlier of the frame's and
// fasthttp's, before a read inside a frame.
func (s *serverSock) arm() {
	s.armed = true
	d := s.frameEnd
	if !s.deadline.IsZero() && s.deadline.Before(d) {
		d = s.deadline
	}
	s.Conn.SetReadDeadline(d)
}

var longAgo = time.Unix(1, 0)

func (s *serverSock) stopReading() {
	s.stopped.Store(true)
	s.Conn.SetReadDeadline(longAgo) // wakes a read in progress
}

func (s *serverSock) Read(p []byte) (int, error) {
	if s.stopped.Load() {
		return 0, net.ErrClosed
	}
	if s.inFrame && !s.armed {
		s.arm()
	}
	n, err := s.Conn.Read(p)
	wirestats.Server.In.Add(uint64(n))
	if n > 0 && !s.inFrame && s.frameTimeout > 0 {
		s.startFrame()
	}
	if err != nil && s.stopped.Load() {
		err = net.ErrClosed
	}
	if s.sniff && n > 0 {
		s.sniff = false
		if !isTokenByte(p[0]) {
			// fasthttp would wait for a line end (ReadTimeout) before
			// rejecting bytes that cannot start a request line: an rpcbench
			// frame (0xB7) or a TLS hello (0x16) sent to this port. Fail
			// now; fasthttp answers 400 and closes.
			return 0, fmt.Errorf("http1: the client does not speak HTTP/1.x (first byte 0x%02x)", p[0])
		}
	}
	return n, err
}

// isTokenByte reports whether b may start an HTTP method (RFC 9110 tchar).
func isTokenByte(b byte) bool {
	switch {
	case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		return true
	}
	return b < 0x80 && b != 0 && strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func (s *serverSock) Write(p []byte) (int, error) {
	n, err := s.Conn.Write(p)
	wirestats.Server.Out.Add(uint64(n))
	return n, err
}

func (s *serverSock) SetReadDeadline(t time.Time) error {
	if s.stopped.Load() {
		return nil
	}
	s.deadline = t
	if s.inFrame {
		s.armed = true
		if t.IsZero() || s.frameEnd.Before(t) {
			t = s.frameEnd
		}
	}
	return s.Conn.SetReadDeadline(t)
}

func (s *serverSock) SetDeadline(t time.Time) error {
	if s.stopped.Load() {
		return s.Conn.SetWriteDeadline(t)
	}
	return s.Conn.SetDeadline(t)
}

func (s *serverSock) Close() error {
	err := s.Conn.Close()
	s.closeOnce.Do(s.sc.disconnect)
	return err
}

// parseBudget parses the Rpcbench-Timeout header; an empty one is no
// budget (0).
func parseBudget(v []byte) (uint32, error) {
	if len(v) == 0 {
		return 0, nil
	}
	us, err := strconv.ParseUint(string(v), 10, 32)
	if err != nil || us == 0 {
		return 0, fmt.Errorf("http1: %s: %q is not a number of microseconds in 1..4294967295", hdrTimeout, v)
	}
	return uint32(us), nil
}

// callKey names a call across connections: the client's random ID and its
// request ID, as sent in the Rpcbench-Call header.
type callKey struct{ client, req uint64 }

// parseCallKey parses "<client>.<request>" in hex; an empty header is no key.
func parseCallKey(v []byte) (k callKey, ok bool, err error) {
	if len(v) == 0 {
		return k, false, nil
	}
	a, b, found := bytes.Cut(v, []byte("."))
	var e1, e2 error
	if found {
		k.client, e1 = parseHex(a)
		k.req, e2 = parseHex(b)
	}
	if !found || e1 != nil || e2 != nil {
		return k, false, fmt.Errorf("http1: %s: %q is not <client>.<request> in hex", hdrCall, v)
	}
	return k, true, nil
}

func parseHex(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 16 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, strconv.ErrSyntax
		}
		n = n<<4 | uint64(c)
	}
	return n, nil
}

func appendCallKey(dst []byte, k callKey) []byte {
	dst = strconv.AppendUint(dst, k.client, 16)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, k.req, 16)
}

// callTable finds the connection running a call, for cancels.
type callTable struct {
	mu sync.Mutex
	m  map[callKey]*serverConn
}

func (t *callTable) add(k callKey, c *serverConn) {
	t.mu.Lock()
	t.m[k] = c
	t.mu.Unlock()
}

func (t *callTable) remove(k callKey, c *serverConn) {
	t.mu.Lock()
	if t.m[k] == c {
		delete(t.m, k)
	}
	t.mu.Unlock()
}

func (t *callTable) get(k callKey) *serverConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[k]
}

// nameCache interns method names from request paths, so that a call does
// not allocate the name it hands the core beside its frame. It stops
// growing at maxNames, so that requests for made-up names cannot grow it
// without bound.
type nameCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]string]
}

const maxNames = 1024

func (n *nameCache) intern(b []byte) string {
	if m := n.m.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.m.Load()
	if old != nil && len(*old) >= maxNames {
		return s
	}
	m := make(map[string]string, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[s] = s
	n.m.Store(&m)
	return s
}

func lenOf(m *map[string]string) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
