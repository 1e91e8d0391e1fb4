// Package transporttest is the conformance suite every rpcbench transport
// runs against itself: real servers and clients on loopback, through the
// unchanged core.
package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/wire"
)

// Config describes the transport under test.
type Config struct {
	// New returns a fresh transport (client and server side).
	New func(t *testing.T) rpcbench.Transport
	// ListenAddr returns an address to listen on (default "127.0.0.1:0").
	ListenAddr func(t *testing.T) string
	// DialAddr turns a listener's address into what Dial takes (default
	// Addr().String()).
	DialAddr func(l rpcbench.Listener) string
	// MaxPayload is the largest payload the transport carries, if it has a
	// documented cap below 1 MiB; the suite then checks that a payload over
	// the cap fails with a clear error instead of echoing.
	MaxPayload int
	// RawDial opens a raw connection (or connected datagram socket) to the
	// server for the garbage tests; nil skips them, saying why in SkipRaw.
	RawDial func(addr string) (net.Conn, error)
	SkipRaw string
	// DropsConn: the server must close a raw connection that sent garbage
	// (stream transports). Datagram transports only discard the datagram.
	DropsConn bool
	// ClientOptions are the base options of every client the suite makes.
	ClientOptions rpcbench.ClientOptions
}

func (c *Config) listenAddr(t *testing.T) string {
	if c.ListenAddr != nil {
		return c.ListenAddr(t)
	}
	return "127.0.0.1:0"
}

func (c *Config) dialAddr(l rpcbench.Listener) string {
	if c.DialAddr != nil {
		return c.DialAddr(l)
	}
	return l.Addr().String()
}

// Args and Sum are the typed Arith.Add messages.
type Args struct{ A, B int }
type Sum struct{ N int }

// Arith is registered by reflection.
type Arith struct{}

// Mul multiplies, in the manner of net/rpc.
func (Arith) Mul(a *Args, s *Sum) error { s.N = a.A * a.B; return nil }

// fixture is one server with the suite's methods, and its address.
type fixture struct {
	srv                    *rpcbench.Server
	addr                   string
	tr                     rpcbench.Transport
	served                 chan error
	gate                   chan struct{} // Block.Wait returns when closed
	entered                chan struct{} // one token per Block.Wait entered
	sawCancel, sawDeadline chan struct{}
}

func start(t *testing.T, cfg *Config) *fixture {
	t.Helper()
	fx := &fixture{
		srv:    rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}}),
		tr:     cfg.New(t),
		served: make(chan error, 1),
		gate:   make(chan struct{}), entered: make(chan struct{}, 4096),
		sawCancel: make(chan struct{}, 16), sawDeadline: make(chan struct{}, 16),
	}
	s := fx.srv
	must(t, s.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }))
	must(t, rpcbench.Handle(s, "Arith.Add", func(_ context.Context, a *Args) (*Sum, error) { return &Sum{N: a.A + a.B}, nil }))
	must(t, s.Register(Arith{}))
	must(t, s.HandleRaw("Fail.Error", func(context.Context, []byte) ([]byte, error) { return nil, errors.New("the handler says no") }))
	must(t, s.HandleRaw("Fail.Panic", func(context.Context, []byte) ([]byte, error) { panic("handler exploded") }))
	// The same, answered on the goroutine that reads the connection.
	must(t, s.HandleRaw("Inline.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }, rpcbench.Inline()))
	must(t, s.HandleRaw("Inline.Panic", func(context.Context, []byte) ([]byte, error) { panic("handler exploded") }, rpcbench.Inline()))
	must(t, s.HandleRaw("Block.Wait", func(ctx context.Context, b []byte) ([]byte, error) {
		fx.entered <- struct{}{}
		select {
		case <-fx.gate:
			return b, nil
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				fx.sawDeadline <- struct{}{}
			} else {
				fx.sawCancel <- struct{}{}
			}
			return nil, ctx.Err()
		}
	}))
	l, err := fx.tr.Listen(cfg.listenAddr(t))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	fx.addr = cfg.dialAddr(l)
	go func() { fx.served <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fx.release()
		s.Shutdown(ctx)
		select {
		case err := <-fx.served:
			if !errors.Is(err, rpcbench.ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	return fx
}

var releaseMu sync.Mutex

func (fx *fixture) release() {
	releaseMu.Lock()
	defer releaseMu.Unlock()
	select {
	case <-fx.gate:
	default:
		close(fx.gate)
	}
}

func (fx *fixture) client(t *testing.T, cfg *Config, codec string) *rpcbench.Client {
	t.Helper()
	o := cfg.ClientOptions
	o.Codec = codec
	return Dial(t, fx.tr, fx.addr, o)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Run runs the whole suite against cfg's transport.
func Run(t *testing.T, cfg Config) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("Echo", func(t *testing.T) { testEcho(t, &cfg) })
	t.Run("TypedAndReflect", func(t *testing.T) { testTyped(t, &cfg) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, &cfg) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, &cfg) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, &cfg) })
	t.Run("UnknownMethod", func(t *testing.T) { testUnknown(t, &cfg) })
	t.Run("HandlerErrorAndPanic", func(t *testing.T) { testHandlerErrors(t, &cfg) })
	t.Run("Shutdown", func(t *testing.T) { testShutdown(t, &cfg) })
	t.Run("ClientClose", func(t *testing.T) { testClientClose(t, &cfg) })
	t.Run("Garbage", func(t *testing.T) { testGarbage(t, &cfg) })
}

func testEcho(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	for _, n := range []int{0, 1, 64 << 10, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(i*7 + n)
			}
			var out []byte
			err := c.Call(callCtx(t), "Echo.Echo", in, &out)
			if cfg.MaxPayload > 0 && n > cfg.MaxPayload {
				if err == nil {
					t.Fatalf("echo of %d bytes succeeded over a transport documented to carry at most %d", n, cfg.MaxPayload)
				}
				if !errors.Is(err, rpcbench.ErrResourceExhausted) {
					t.Fatalf("echo of %d bytes over a %d-byte cap: got %v, want a resource-exhausted error", n, cfg.MaxPayload, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("echo %d bytes: %v", n, err)
			}
			if !bytes.Equal(in, out) {
				t.Fatalf("echo %d bytes: reply differs (got %d bytes)", n, len(out))
			}
		})
	}
}

func testTyped(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "json")
	var s Sum
	must(t, c.Call(callCtx(t), "Arith.Add", &Args{A: 1, B: 2}, &s))
	if s.N != 3 {
		t.Fatalf("Arith.Add(1,2) = %d", s.N)
	}
	must(t, c.Call(callCtx(t), "Arith.Mul", &Args{A: 6, B: 7}, &s))
	if s.N != 42 {
		t.Fatalf("Arith.Mul(6,7) = %d", s.N)
	}
	f := c.Go(callCtx(t), "Arith.Add", &Args{A: 40, B: 2}, &s)
	must(t, f.Wait())
	if s.N != 42 {
		t.Fatalf("Go Arith.Add(40,2) = %d", s.N)
	}
	err := c.Call(callCtx(t), "Arith.Add", "not an object", &s)
	if !errors.Is(err, rpcbench.ErrBadRequest) {
		t.Fatalf("bad request body: got %v, want bad request", err)
	}
}

func testConcurrent(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	const goroutines, perG = 50, 20 // 1,000 calls
	var wg sync.WaitGroup
	var bad atomic.Int64
	errs := make(chan error, goroutines*perG)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			for i := 0; i < perG; i++ {
				in := binary.BigEndian.AppendUint64(nil, uint64(g*perG+i))
				in = append(in, bytes.Repeat([]byte{byte(g)}, g)...)
				method := "Echo.Echo" // half the callers' calls run inline, on the same connection
				if g%2 == 1 {
					method = "Inline.Echo"
				}
				if err := c.Call(callCtx(t), method, in, &out); err != nil {
					errs <- err
					continue
				}
				if !bytes.Equal(in, out) {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent call failed: %v", err)
	}
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d of %d replies went to the wrong caller", n, goroutines*perG)
	}
}

func testDeadline(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var out []byte
	err := c.Call(ctx, "Block.Wait", []byte("x"), &out)
	if !errors.Is(err, rpcbench.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
	select {
	case <-fx.sawDeadline: // the budget reached the handler's context
	case <-fx.sawCancel: // or the cancel frame got there first: still ended
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context never ended after the caller's deadline")
	}
	must(t, c.Call(callCtx(t), "Echo.Echo", []byte("after"), &out))
}

func testCancel(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out []byte
		done <- c.Call(ctx, "Block.Wait", []byte("x"), &out)
	}()
	select {
	case <-fx.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the call never reached the handler")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, rpcbench.ErrCanceled) {
			t.Fatalf("got %v, want canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Call did not return after cancel")
	}
	select {
	case <-fx.sawCancel:
	case <-time.After(5 * time.Second):
		t.Fatal("cancellation never reached the handler's context")
	}
}

func testUnknown(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	var out []byte
	err := c.Call(callCtx(t), "Arith.Nope", []byte("x"), &out)
	if !errors.Is(err, rpcbench.ErrUnknownMethod) {
		t.Fatalf("got %v, want unknown method", err)
	}
	id := fmt.Sprintf("%#08x", rpcbench.CallID("Arith.Nope"))
	if !strings.Contains(err.Error(), "Arith.Nope") || !strings.Contains(err.Error(), id) {
		t.Fatalf("error %q should name the method and its ID %s", err, id)
	}
	must(t, c.Call(callCtx(t), "Echo.Echo", []byte("still up"), &out))
}

func testHandlerErrors(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	var out []byte
	err := c.Call(callCtx(t), "Fail.Error", []byte(nil), &out)
	var e *rpcbench.Error
	if !errors.As(err, &e) || e.Code != rpcbench.CodeApplication || e.Message != "the handler says no" {
		t.Fatalf("handler error: got %#v, want application error with the handler's message", err)
	}
	for _, m := range []string{"Fail.Panic", "Inline.Panic"} {
		err = c.Call(callCtx(t), m, []byte(nil), &out)
		if !errors.Is(err, rpcbench.ErrInternal) || !strings.Contains(err.Error(), "handler exploded") {
			t.Fatalf("%s: got %v, want internal error naming the panic", m, err)
		}
		must(t, c.Call(callCtx(t), "Echo.Echo", []byte("after panic"), &out))
	}
}

func testShutdown(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	const n = 20
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			var out []byte
			results <- c.Call(callCtx(t), "Block.Wait", []byte{byte(i)}, &out)
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case <-fx.entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d calls reached the handler", i, n)
		}
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- fx.srv.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond) // let Shutdown start draining
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with calls in flight", err)
	default:
	}
	fx.release()
	for i := 0; i < n; i++ {
		if err := <-results; err != nil {
			t.Fatalf("in-flight call lost in shutdown: %v", err)
		}
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	start := time.Now()
	var out []byte
	err := c.Call(callCtx(t), "Echo.Echo", []byte("late"), &out)
	if !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("call after shutdown: got %v, want unavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("call after shutdown took %v to fail", d)
	}
}

func testClientClose(t *testing.T, cfg *Config) {
	fx := start(t, cfg)
	c := fx.client(t, cfg, "raw")
	const n = 10
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			var out []byte
			results <- c.Call(callCtx(t), "Block.Wait", []byte(nil), &out)
		}()
	}
	for i := 0; i < n; i++ {
		<-fx.entered
	}
	c.Close()
	for i := 0; i < n; i++ {
		select {
		case err := <-results:
			if !errors.Is(err, rpcbench.ErrUnavailable) {
				t.Fatalf("pending call after Close: got %v, want unavailable", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("pending calls did not fail after Close")
		}
	}
	var out []byte
	if err := c.Call(callCtx(t), "Echo.Echo", []byte(nil), &out); !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("call on a closed client: got %v, want unavailable", err)
	}
}

func testGarbage(t *testing.T, cfg *Config) {
	if cfg.RawDial == nil {
		t.Skip(cfg.SkipRaw)
	}
	fx := start(t, cfg)
	good := fx.client(t, cfg, "raw")
	hdr := wire.AppendHeader(nil, &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID("Echo.Echo"), RequestID: 1}, 100)
	oversize := wire.AppendHeader(nil, &wire.Frame{Kind: wire.KindRequest, Codec: 1, RequestID: 2}, 0)
	binary.BigEndian.PutUint32(oversize[24:], 0xFFFFFFF0)
	cases := map[string][]byte{
		"garbage":   []byte("GET / HTTP/1.0\r\n\r\nthis is not a frame at all"),
		"truncated": append(hdr, "only part of the payload"...),
		"oversize":  oversize,
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			raw, err := cfg.RawDial(fx.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Write(b); err != nil {
				t.Fatal(err)
			}
			if name == "truncated" && cfg.DropsConn {
				raw.(interface{ CloseWrite() error }).CloseWrite()
			}
			if cfg.DropsConn {
				raw.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 512)
				for {
					_, err := raw.Read(buf)
					if err == nil {
						continue // a transport may answer before it hangs up
					}
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						t.Fatal("the server kept a connection that sent bad bytes")
					}
					if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
						t.Fatalf("reading from the dropped connection: %v", err)
					}
					break
				}
			}
			var out []byte
			if err := good.Call(callCtx(t), "Echo.Echo", []byte(name), &out); err != nil || string(out) != name {
				t.Fatalf("server stopped serving others after %s: %v", name, err)
			}
		})
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}
