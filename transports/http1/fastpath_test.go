package http1_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/http1"
	"rpcbench/wire"
)

func dialExchanger(t *testing.T, ts *testServer) (rpcbench.ClientConn, rpcbench.Exchanger) {
	t.Helper()
	cc, err := ts.tr.Dial(context.Background(), ts.addr)
	must(t, err)
	ex, ok := cc.(rpcbench.Exchanger)
	if !ok {
		t.Fatal("the http1 ClientConn has no Exchange method")
	}
	return cc, ex
}

func request(method string, payload []byte) *wire.Frame {
	return &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID(method), Payload: payload}
}

// TestExchange drives the fast path: replies, error frames, cancellation,
// and the cancellation watch that calls under one long-lived context (and
// values layered on it) share per connection: it still aborts the call in
// progress when the context ends, leaves idle connections alone, and a
// context that has ended sends nothing.
func TestExchange(t *testing.T) {
	noLeaks(t)
	ts := startServer(t, http1.Options{})
	cc, ex := dialExchanger(t, ts)
	defer cc.Close()

	var got wire.Frame
	var body string
	keep := rpcbench.ReplyFunc(func(f *wire.Frame) { got, body = *f, string(f.Payload) })
	echo := func(ctx context.Context, what string) {
		t.Helper()
		must(t, ex.Exchange(ctx, "Echo.Echo", request("Echo.Echo", []byte(what)), keep))
		if got.Kind != wire.KindResponse || body != what {
			t.Fatalf("%s: %v %q", what, got.Kind, body)
		}
	}
	echo(context.Background(), "hello")
	must(t, ex.Exchange(context.Background(), "No.Such", request("No.Such", nil), keep))
	if code, msg, _ := wire.ParseError([]byte(body)); got.Kind != wire.KindError || rpcbench.Code(code) != rpcbench.CodeUnknownMethod || !strings.Contains(msg, "No.Such") {
		t.Fatalf("unknown method: %v %d %q", got.Kind, code, msg)
	}

	// Cancelling the context ends the exchange at once, and the handler's
	// context too.
	ctx, cancel := context.WithCancel(context.Background())
	cancelBlocked(t, ts, ex, ctx, cancel)
	echo(context.Background(), "again")

	// The same, for a context many calls have shared.
	type key struct{}
	run, end := context.WithCancel(context.Background())
	layered := context.WithValue(run, key{}, "v")
	for i := range 3 {
		echo(run, fmt.Sprint("run ", i))
		echo(layered, fmt.Sprint("layered ", i))
	}
	cancelBlocked(t, ts, ex, layered, end)

	// A context that ends while its connection is idle aborts nothing:
	// the next call reuses the connection.
	idle, endIdle := context.WithCancel(context.Background())
	echo(idle, "armed")
	endIdle()
	echo(context.Background(), "after an idle cancel")

	// A context that has ended sends nothing, whether this connection
	// watches it already (run) or not (ended).
	ended, endNow := context.WithCancel(context.Background())
	endNow()
	for _, ctx := range []context.Context{run, ended} {
		if err := ex.Exchange(ctx, "Block.Wait", request("Block.Wait", nil), keep); !errors.Is(err, context.Canceled) {
			t.Fatalf("exchange under an ended context returned %v", err)
		}
	}
	select {
	case <-ts.entered:
		t.Fatal("a call under an ended context reached its handler")
	case <-time.After(50 * time.Millisecond):
	}
	echo(context.Background(), "still usable")

	cc.Close()
	if err := ex.Exchange(context.Background(), "Echo.Echo", request("Echo.Echo", nil), keep); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("exchange on a closed conn: %v", err)
	}
}

// TestSendRefusesRequests: a request frame has no method name for its
// path, so Send refuses it and points to Exchange; the connection stays
// usable.
func TestSendRefusesRequests(t *testing.T) {
	ts := startServer(t, http1.Options{})
	cc, ex := dialExchanger(t, ts)
	defer cc.Close()
	if err := cc.Send(request("Echo.Echo", []byte("x"))); err == nil || !strings.Contains(err.Error(), "Exchange") {
		t.Fatalf("Send of a request returned %v, want a pointer to Exchange", err)
	}
	var body string
	must(t, ex.Exchange(context.Background(), "Echo.Echo", request("Echo.Echo", []byte("y")), rpcbench.ReplyFunc(func(f *wire.Frame) { body = string(f.Payload) })))
	if body != "y" {
		t.Fatalf("echo after a refused Send: %q", body)
	}
}

// cancelBlocked starts Block.Wait under ctx, cancels ctx once the handler
// has it, and checks that the exchange ends at once with context.Canceled
// and that the cancel reaches the handler.
func cancelBlocked(t *testing.T, ts *testServer, ex rpcbench.Exchanger, ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- ex.Exchange(ctx, "Block.Wait", request("Block.Wait", nil), rpcbench.ReplyFunc(func(*wire.Frame) {}))
	}()
	<-ts.entered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled exchange returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the exchange outlived its context")
	}
	select {
	case err := <-ts.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancel never reached the handler")
	}
}

// inlineCore is a fake server core whose sessions offer Begin, the inline
// fast path: the handler runs on the transport's goroutine.
type inlineCore struct {
	begun   atomic.Int64
	entered chan struct{}
	ended   chan error
	mu      sync.Mutex
	conns   []rpcbench.ServerConn
}

func (h *inlineCore) Connect(c rpcbench.ServerConn) rpcbench.Session {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	return &inlineSession{core: h, conn: c, cancels: map[uint64]context.CancelFunc{}}
}

func (h *inlineCore) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}

type inlineSession struct {
	core    *inlineCore
	conn    rpcbench.ServerConn
	mu      sync.Mutex
	cancels map[uint64]context.CancelFunc
}

// inlineCall is one call accepted by Begin.
type inlineCall struct {
	s      *inlineSession
	ctx    context.Context
	cancel context.CancelFunc
	method string
	reply  wire.Frame
}

var _ rpcbench.InlineSession = (*inlineSession)(nil)

func (s *inlineSession) Begin(f *wire.Frame, method string) rpcbench.InlineCall {
	s.core.begun.Add(1)
	if method == "Nope.Nope" { // answered at once
		s.conn.Send(&wire.Frame{Kind: wire.KindError, RequestID: f.RequestID, Payload: wire.AppendError(nil, uint16(rpcbench.CodeUnknownMethod), "no")})
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancels[f.RequestID] = cancel
	s.mu.Unlock()
	payload := append([]byte(nil), f.Payload...) // a copy the test may keep
	return &inlineCall{s: s, ctx: ctx, cancel: cancel, method: method,
		reply: wire.Frame{Kind: wire.KindResponse, Codec: f.Codec, RequestID: f.RequestID, Payload: payload}}
}

func (c *inlineCall) Run() {
	if c.method == "Block.Wait" {
		c.s.core.entered <- struct{}{}
		<-c.ctx.Done()
		c.s.core.ended <- c.ctx.Err()
	}
	c.s.mu.Lock()
	delete(c.s.cancels, c.reply.RequestID)
	c.s.mu.Unlock()
	if c.ctx.Err() == nil {
		c.s.conn.Send(&c.reply)
	}
	c.cancel()
}

func (s *inlineSession) Frame(f *wire.Frame) {
	switch f.Kind {
	case wire.KindCancel:
		s.mu.Lock()
		if cancel := s.cancels[f.RequestID]; cancel != nil {
			cancel()
		}
		s.mu.Unlock()
	case wire.KindPing:
		s.conn.Send(&wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID})
	default:
		panic("the transport must use Begin for requests when the session has it")
	}
}

func (s *inlineSession) Disconnect(error) {}

// TestInlineSession drives the server through a session with Begin.
func TestInlineSession(t *testing.T) {
	noLeaks(t)
	tr, err := http1.New(http1.Options{Logf: quiet})
	must(t, err)
	l, err := tr.Listen("127.0.0.1:0")
	must(t, err)
	core := &inlineCore{entered: make(chan struct{}, 4), ended: make(chan error, 4)}
	served := make(chan error, 1)
	go func() { served <- l.Serve(core) }()
	defer func() {
		l.Close()
		if err := <-served; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve returned %v", err)
		}
		core.closeAll()
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	base := "http://" + l.Addr().String() + "/rpc/"
	post := func(method, key string) (int, string) {
		req, _ := http.NewRequest("POST", base+method, strings.NewReader("payload"))
		req.Header.Set("Content-Type", "application/octet-stream")
		if key != "" {
			req.Header.Set("Rpcbench-Call", key)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}

	if status, body := post("Echo.Echo", ""); status != 200 || body != "payload" || core.begun.Load() != 1 {
		t.Fatalf("echo: HTTP %d %q, Begin called %d times", status, body, core.begun.Load())
	}
	if status, _ := post("Nope.Nope", ""); status != 404 {
		t.Fatalf("a request answered within Begin: HTTP %d", status)
	}

	// A cancel reaches a call running inline, and the call answers 499.
	res := make(chan int, 1)
	go func() { s, _ := post("Block.Wait", "1.2"); res <- s }()
	<-core.entered
	req, _ := http.NewRequest("POST", base+"_cancel", nil)
	req.Header.Set("Rpcbench-Call", "1.2")
	resp, err := hc.Do(req)
	must(t, err)
	resp.Body.Close()
	if err := <-core.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler ended with %v", err)
	}
	if s := <-res; s != http1.StatusCanceled {
		t.Fatalf("cancelled call answered %d", s)
	}

	// Closing the connection under a call running inline cancels the call
	// and answers 503.
	go func() { s, _ := post("Block.Wait", ""); res <- s }()
	<-core.entered
	core.closeAll()
	<-core.ended
	if s := <-res; s != http.StatusServiceUnavailable {
		t.Fatalf("call under a closed connection answered %d", s)
	}
}
