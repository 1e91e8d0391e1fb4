package http1

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench"
	"rpcbench/wire"
)

// clientConn is rpcbench.ClientConn over HTTP. Calls go through Exchange
// (rpcbench.Exchanger): each becomes a POST /rpc/{Service.Method} on the
// caller's goroutine over the connection pool, since a frame does not carry
// the method name its path needs. Send carries the core's heartbeats: a
// ping becomes GET /rpc/_ping on a connection of its own, and its pong is
// queued for Recv.
type clientConn struct {
	t    *Transport
	host string
	id   uint64 // names this client in Rpcbench-Call
	pool *connPool
	ctl  *connPool // pings and cancels

	replies   chan *exchange
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	isClosed bool
	wg       sync.WaitGroup // goroutines performing pings and cancels

	last *exchange // returned by the previous Recv, released by the next

	// abandon tells the server the caller of an exchange gave up (its
	// context ended); a func made once, not per call.
	abandon func(id uint64)

	exchangeIDs atomic.Uint64
}

var (
	_ rpcbench.ClientConn = (*clientConn)(nil)
	_ rpcbench.Exchanger  = (*clientConn)(nil)
)

// exchange is one HTTP request and its reply frame, pooled.
type exchange struct {
	req      fasthttp.Request
	resp     fasthttp.Response
	frame    wire.Frame // the reply as Recv returns it
	id       uint64
	codec    uint8
	method   string
	deadline time.Time
	buf      []byte // scratch, then an error frame's payload
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

func getExchange() *exchange { return exchangePool.Get().(*exchange) }

func putExchange(x *exchange) {
	if cap(x.buf) > 64<<10 {
		x.buf = nil
	}
	x.req.Reset()
	x.resp.Reset()
	x.frame, x.method, x.deadline = wire.Frame{}, "", time.Time{}
	exchangePool.Put(x)
}

func newClientConn(t *Transport, host string) *clientConn {
	cc := &clientConn{
		t: t, host: host, id: rand.Uint64(),
		pool:    newPool(t, host, t.opts.MaxConns, t.opts.MaxConnWait),
		ctl:     newPool(t, host, 1, t.opts.PingTimeout),
		replies: make(chan *exchange, 256),
		closed:  make(chan struct{}),
	}
	// Best effort: if the cancel fails, the server's budget still applies.
	cc.abandon = func(id uint64) { cc.sendCancel(id) } //nolint:errcheck
	return cc
}

// errRequestBySend refuses a request frame handed to Send.
var errRequestBySend = errors.New("http1: requests go through Exchange, which has the method name for the path; Send carries pings and cancels")

// Send implements rpcbench.ClientConn. It returns at once; the ping or
// cancel runs on its own goroutine.
func (cc *clientConn) Send(f *wire.Frame) error {
	switch f.Kind {
	case wire.KindRequest:
		return errRequestBySend
	case wire.KindPing:
		x := getExchange()
		x.id = f.RequestID
		cc.header(x, fasthttp.MethodGet, "/rpc/_ping")
		return cc.start(x, jobPing)
	case wire.KindCancel:
		return cc.sendCancel(f.RequestID)
	}
	return nil // pongs: a server never pings over HTTP
}

func (cc *clientConn) header(x *exchange, method, path string) {
	x.req.Header.SetMethod(method)
	x.req.Header.SetRequestURI(path)
	x.req.Header.SetHost(cc.host)
	x.req.Header.SetUserAgent("rpcbench")
}

// build turns a request frame for method into a POST named id for
// cancels.
func (cc *clientConn) build(method string, f *wire.Frame, id uint64) *exchange {
	x := getExchange()
	x.id, x.codec, x.method = id, f.Codec, method
	h := &x.req.Header
	h.SetMethod(fasthttp.MethodPost)
	x.buf = append(append(x.buf[:0], "/rpc/"...), method...)
	h.SetRequestURIBytes(x.buf)
	h.SetHost(cc.host)
	h.SetUserAgent("rpcbench")
	h.SetContentTypeBytes(contentTypeOf(f.Codec))
	if f.Compression != 0 {
		h.SetContentEncoding(encodingOf(f.Compression))
	}
	if f.BudgetMicros > 0 {
		x.buf = strconv.AppendUint(x.buf[:0], uint64(f.BudgetMicros), 10)
		h.SetBytesV(hdrTimeout, x.buf)
		// The server answers 504 when the budget ends; the margin covers the
		// trip back, and the deadline only guards against a server that
		// stopped answering.
		b := time.Duration(f.BudgetMicros) * time.Microsecond
		x.deadline = time.Now().Add(b + b/8 + time.Second)
	}
	x.buf = appendCallKey(x.buf[:0], callKey{cc.id, id})
	h.SetBytesV(hdrCall, x.buf)
	x.req.SetBody(f.Payload)
	return x
}

// Kinds of exchange run by start.
const (
	jobPing = iota
	jobCancel
)

// start runs the exchange on a new goroutine unless the connection is
// closed.
func (cc *clientConn) start(x *exchange, job int) error {
	cc.mu.Lock()
	if cc.isClosed {
		cc.mu.Unlock()
		putExchange(x)
		return net.ErrClosed
	}
	cc.wg.Add(1)
	cc.mu.Unlock()
	go cc.run(x, job)
	return nil
}

func (cc *clientConn) run(x *exchange, job int) {
	defer cc.wg.Done()
	switch job {
	case jobPing:
		cc.ping(x)
	case jobCancel:
		// Best effort: if it fails, the server's budget still applies.
		cc.ctl.roundTrip(&x.req, &x.resp, time.Now().Add(cc.t.opts.PingTimeout)) //nolint:errcheck
		putExchange(x)
	}
}

func (x *exchange) reply() {
	status := x.resp.StatusCode()
	if status != fasthttp.StatusOK {
		code, msg := parseError(status, x.resp.Header.ContentType(), x.resp.Body())
		x.fail(code, msg)
		return
	}
	comp, ok := compressionOf(x.resp.Header.ContentEncoding())
	if !ok {
		x.fail(rpcbench.CodeInternal, fmt.Sprintf("http1: reply has an unsupported Content-Encoding %q", x.resp.Header.ContentEncoding()))
		return
	}
	x.frame = wire.Frame{Kind: wire.KindResponse, Codec: x.codec, Compression: comp, RequestID: x.id, Payload: x.resp.Body()}
}

func (x *exchange) fail(code rpcbench.Code, msg string) {
	x.buf = wire.AppendError(x.buf[:0], uint16(code), msg)
	x.frame = wire.Frame{Kind: wire.KindError, Codec: x.codec, RequestID: x.id, Payload: x.buf}
}

// failure classifies an exchange that produced no HTTP reply.
func (cc *clientConn) failure(x *exchange, err error) (rpcbench.Code, string) {
	var ne net.Error
	switch {
	case errors.Is(err, errPoolClosed):
		return rpcbench.CodeUnavailable, "http1: connection closed"
	case errors.Is(err, errNoFreeConn):
		return rpcbench.CodeResourceExhausted, fmt.Sprintf("http1: %s: all %d connections to %s stayed busy (MaxConns, MaxConnWait %v)",
			x.method, cc.t.opts.MaxConns, cc.host, cc.t.opts.MaxConnWait)
	case errors.As(err, new(*dialError)):
		return rpcbench.CodeUnavailable, fmt.Sprintf("%s: %v", x.method, err)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return rpcbench.CodeResourceExhausted, fmt.Sprintf("http1: %s: reply over the %d-byte limit (MaxPayload)", x.method, cc.t.opts.MaxPayload)
	case errors.As(err, &ne) && ne.Timeout():
		return rpcbench.CodeDeadlineExceeded, fmt.Sprintf("http1: %s: no reply from %s within the call's budget", x.method, cc.host)
	}
	return rpcbench.CodeUnavailable, fmt.Sprintf("http1: %s: POST to %s: %v", x.method, cc.host, err)
}

// ping answers a heartbeat with a pong frame if the server's core answers
// GET /rpc/_ping; a failed ping delivers nothing, and the core declares the
// server dead after its configured misses.
func (cc *clientConn) ping(x *exchange) {
	err := cc.ctl.roundTrip(&x.req, &x.resp, time.Now().Add(cc.t.opts.PingTimeout))
	if err != nil || x.resp.StatusCode() != fasthttp.StatusNoContent {
		putExchange(x)
		return
	}
	x.frame = wire.Frame{Kind: wire.KindPong, RequestID: x.id}
	cc.deliver(x)
}

// sendCancel posts /rpc/_cancel for call id on a goroutine of its own.
func (cc *clientConn) sendCancel(id uint64) error {
	x := getExchange()
	cc.header(x, fasthttp.MethodPost, "/rpc/_cancel")
	x.buf = appendCallKey(x.buf[:0], callKey{cc.id, id})
	x.req.Header.SetBytesV(hdrCall, x.buf)
	return cc.start(x, jobCancel)
}

func (cc *clientConn) deliver(x *exchange) {
	select {
	case cc.replies <- x:
	case <-cc.closed:
		putExchange(x)
	}
}

// Recv implements rpcbench.ClientConn.
func (cc *clientConn) Recv() (wire.Frame, error) {
	if cc.last != nil {
		putExchange(cc.last)
		cc.last = nil
	}
	select {
	case x := <-cc.replies:
		cc.last = x
		return x.frame, nil
	case <-cc.closed:
		return wire.Frame{}, net.ErrClosed
	}
}

// Close implements rpcbench.ClientConn: it closes every connection, which
// ends exchanges in flight at once, and returns when their goroutines have.
func (cc *clientConn) Close() error {
	cc.closeOnce.Do(func() {
		cc.mu.Lock()
		cc.isClosed = true
		cc.mu.Unlock()
		close(cc.closed)
		cc.pool.close()
		cc.ctl.close()
		cc.wg.Wait()
	})
	return nil
}

// Exchange implements rpcbench.Exchanger: it performs one call on the
// caller's goroutine and hands its reply frame to reply. Over HTTP/1.1 a
// call owns its connection for the whole exchange anyway, and the two
// goroutine hand-offs of Send/Recv would cost about a quarter of the
// throughput of a 64-byte echo.
//
// When ctx ends first, the call's connection is closed and the server is
// sent a cancel.
func (cc *clientConn) Exchange(ctx context.Context, method string, f *wire.Frame, reply rpcbench.Replier) error {
	if f.Kind != wire.KindRequest {
		return fmt.Errorf("http1: Exchange takes request frames, not %v", f.Kind)
	}
	id := f.RequestID
	if id == 0 {
		id = cc.exchangeIDs.Add(1) | 1<<63 // apart from the core's IDs
	}
	x := cc.build(method, f, id)
	defer putExchange(x)
	pc, err := cc.pool.acquire(ctx, x.deadline)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errPoolClosed) {
			return net.ErrClosed
		}
		code, msg := cc.failure(x, err)
		x.fail(code, msg)
		reply.Reply(&x.frame)
		return nil
	}
	if !pc.begin(ctx, id, cc.abandon) {
		cc.pool.release(pc, !pc.end()) // not sent; reusable unless aborted meanwhile
		return ctx.Err()
	}
	err = pc.roundTrip(&x.req, &x.resp, x.deadline, cc.pool.maxBody)
	if pc.end() {
		cc.pool.release(pc, false)
		return ctx.Err()
	}
	cc.pool.release(pc, err == nil && !x.resp.ConnectionClose())
	if err != nil {
		code, msg := cc.failure(x, err)
		x.fail(code, msg)
	} else {
		x.reply()
	}
	reply.Reply(&x.frame)
	return nil
}
