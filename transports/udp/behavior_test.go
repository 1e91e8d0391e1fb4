package udp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
	"rpcbench/wire"
)

func newTransport(t *testing.T, o udp.Options) *udp.Transport {
	t.Helper()
	tr, err := udp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// The suite again with a message cap below 1 MiB: the 1 MiB echo must fail
// with resource exhausted.
func TestConformanceCapped(t *testing.T) {
	cfg := suite("net")
	cfg.New = func(t *testing.T) rpcbench.Transport { return newTransport(t, udp.Options{MaxMessage: 512 << 10}) }
	cfg.MaxPayload = 512 << 10
	transporttest.Run(t, cfg)
}

// The suite again with small datagrams and small socket buffers: the
// 64 KiB and 1 MiB echoes overflow the receivers' buffers, so fragments are
// lost and recovered by missing-fragment reports.
func TestConformanceSmallBuffers(t *testing.T) {
	cfg := suite("net")
	cfg.New = func(t *testing.T) rpcbench.Transport {
		return newTransport(t, udp.Options{MaxDatagram: 576, SocketBuffer: 32 << 10})
	}
	transporttest.Run(t, cfg)
}

func TestMessageLimit(t *testing.T) {
	leakCheck(t)
	tr := newTransport(t, udp.Options{MaxMessage: 64 << 10})
	ex := &executions{n: map[uint64]int{}}
	addr := server(t, tr, ex)
	c := transporttest.Dial(t, tr, addr, rpcbench.ClientOptions{})
	ctx := context.Background()
	var out []byte
	big := make([]byte, 64<<10+1)
	if err := c.Call(ctx, "Echo.Echo", big, &out); !errors.Is(err, rpcbench.ErrResourceExhausted) {
		t.Fatalf("request over the limit: got %v, want resource exhausted", err)
	}
	must(t, c.Call(ctx, "Echo.Echo", big[:64<<10], &out)) // at the limit: fine, and the connection lives
	if len(out) != 64<<10 {
		t.Fatalf("echo of 64 KiB returned %d bytes", len(out))
	}

	// A reply over the limit becomes an error from the server.
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	must(t, srv.HandleRaw("Big.Reply", func(context.Context, []byte) ([]byte, error) { return make([]byte, 100<<10), nil }))
	l, err := tr.Listen("127.0.0.1:0")
	must(t, err)
	go srv.Serve(l)
	defer srv.Close()
	c2 := transporttest.Dial(t, tr, l.Addr().String(), rpcbench.ClientOptions{})
	err = c2.Call(ctx, "Big.Reply", []byte("x"), &out)
	if !errors.Is(err, rpcbench.ErrResourceExhausted) {
		t.Fatalf("reply over the limit: got %v, want resource exhausted", err)
	}
	c.Close()
	c2.Close()
}

// rawRequest encodes a request frame for Count.Echo with the given key.
func rawRequest(id, key uint64) []byte {
	p := binary.BigEndian.AppendUint64(nil, key)
	return wire.Append(nil, &wire.Frame{Kind: wire.KindRequest, CallID: rpcbench.CallID("Count.Echo"), RequestID: id, Payload: p})
}

func readFrame(t *testing.T, c net.Conn, wait time.Duration) (wire.Frame, bool) {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if err != nil {
		return wire.Frame{}, false
	}
	f, err := wire.ParseDatagram(buf[:n], 1<<16)
	if err != nil {
		t.Fatalf("bad datagram from server: %v", err)
	}
	f.Payload = append([]byte(nil), f.Payload...)
	return f, true
}

// A request sent several times runs once: a copy of one answered gets the
// same reply again, a copy of one running gets an acknowledgement, and a
// request whose cancel overtook it does not run at all.
func TestDuplicateRequests(t *testing.T) {
	for _, engine := range udp.Engines {
		t.Run(engine, func(t *testing.T) {
			leakCheck(t)
			tr := newTransport(t, udp.Options{Engine: engine})
			ex := &executions{n: map[uint64]int{}}
			addr := server(t, tr, ex)
			raw, err := net.Dial("udp", addr)
			must(t, err)
			defer raw.Close()

			// Answered, then asked again. (The gnet engine may lose
			// datagrams that arrive while it starts: retry like a client.)
			var first wire.Frame
			ok := false
			for try := 0; try < 50 && !ok; try++ {
				raw.Write(rawRequest(1000, 1))
				first, ok = readFrame(t, raw, 100*time.Millisecond)
			}
			if !ok || first.Kind != wire.KindResponse || first.RequestID != 1000 {
				t.Fatalf("first reply: %+v (ok %v)", first, ok)
			}
			for ok { // replies to the retries
				_, ok = readFrame(t, raw, 50*time.Millisecond)
			}
			raw.Write(rawRequest(1000, 1))
			again, ok := readFrame(t, raw, 5*time.Second)
			if !ok || again.Kind != wire.KindResponse || !bytes.Equal(first.Payload, again.Payload) {
				t.Fatalf("reply to the copy: %+v (ok %v)", again, ok)
			}
			if n := ex.get(1); n != 1 {
				t.Fatalf("ran %d times", n)
			}

			// Running (key 7 takes 30ms), asked again: acknowledged.
			raw.Write(rawRequest(2000, 7))
			time.Sleep(5 * time.Millisecond)
			raw.Write(rawRequest(2000, 7))
			var kinds []wire.Kind
			for len(kinds) < 2 {
				f, ok := readFrame(t, raw, 5*time.Second)
				if !ok {
					t.Fatalf("got only %v", kinds)
				}
				if f.RequestID == 2000 {
					kinds = append(kinds, f.Kind)
				}
			}
			if kinds[0] != wire.KindPong || kinds[1] != wire.KindResponse {
				t.Fatalf("got %v, want an acknowledgement then the reply", kinds)
			}
			if n := ex.get(7); n != 1 {
				t.Fatalf("slow call ran %d times", n)
			}

			// Cancelled before it arrived: dropped.
			raw.Write(wire.Append(nil, &wire.Frame{Kind: wire.KindCancel, RequestID: 3000}))
			raw.Write(rawRequest(3000, 3))
			if f, ok := readFrame(t, raw, 200*time.Millisecond); ok {
				t.Fatalf("a cancelled request was answered: %+v", f)
			}
			if n := ex.get(3); n != 0 {
				t.Fatalf("a cancelled request ran %d times", n)
			}
		})
	}
}

// A server that stops answering (every datagram lost): calls with a
// deadline fail with deadline exceeded; calls without one fail with
// unavailable after the retry timeout.
func TestSilentServer(t *testing.T) {
	leakCheck(t)
	tr := newTransport(t, udp.Options{RetryTimeout: 300 * time.Millisecond})
	ex := &executions{n: map[uint64]int{}}
	addr := server(t, tr, ex)
	relay := newLossyRelay(t, addr, impairment{}, 1)
	c := transporttest.Dial(t, tr, relay.Addr(), rpcbench.ClientOptions{})
	var out []byte
	must(t, c.Call(context.Background(), "Echo.Echo", []byte("hi"), &out))
	relay.setLoss(1)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "Echo.Echo", []byte("hi"), &out); !errors.Is(err, rpcbench.ErrDeadlineExceeded) {
		t.Fatalf("with a deadline: got %v, want deadline exceeded", err)
	}
	start := time.Now()
	err := c.Call(context.Background(), "Echo.Echo", []byte("hi"), &out)
	if !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("without a deadline: got %v, want unavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to give up", d)
	}
	t.Logf("gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
	c.Close()
	relay.Close()
}

// Closing the server (no drain) with calls in flight fails them at once.
func TestServerCloseFailsFast(t *testing.T) {
	for _, engine := range udp.Engines {
		t.Run(engine, func(t *testing.T) {
			leakCheck(t)
			tr := newTransport(t, udp.Options{Engine: engine})
			srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			must(t, srv.HandleRaw("Block.Wait", func(ctx context.Context, b []byte) ([]byte, error) {
				entered <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
				}
				return b, nil
			}))
			l, err := tr.Listen("127.0.0.1:0")
			must(t, err)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			c := transporttest.Dial(t, tr, l.Addr().String(), rpcbench.ClientOptions{})
			done := make(chan error, 1)
			go func() {
				var out []byte
				done <- c.Call(context.Background(), "Block.Wait", []byte("x"), &out)
			}()
			<-entered
			start := time.Now()
			srv.Close()
			select {
			case err := <-done:
				if !errors.Is(err, rpcbench.ErrUnavailable) {
					t.Fatalf("got %v, want unavailable", err)
				}
				t.Logf("pending call failed after %v: %v", time.Since(start).Round(time.Microsecond), err)
			case <-time.After(3 * time.Second):
				t.Fatal("the pending call did not fail after the server closed")
			}
			close(release)
			if err := <-served; !errors.Is(err, rpcbench.ErrServerClosed) {
				t.Fatalf("Serve: %v", err)
			}
			var out []byte
			if err := c.Call(context.Background(), "Block.Wait", []byte{}, &out); !errors.Is(err, rpcbench.ErrUnavailable) {
				t.Fatalf("call to a closed server: got %v, want unavailable", err)
			}
			c.Close()
		})
	}
}

// 256 concurrent callers on one client: every call is answered or fails
// with a clear error (none expected on loopback).
func TestManyCallers(t *testing.T) {
	for _, engine := range udp.Engines {
		t.Run(engine, func(t *testing.T) {
			leakCheck(t)
			tr := newTransport(t, udp.Options{Engine: engine})
			ex := &executions{n: map[uint64]int{}}
			addr := server(t, tr, ex)
			c := transporttest.Dial(t, tr, addr, rpcbench.ClientOptions{})
			const callers, perCaller = 256, 20
			var wg sync.WaitGroup
			var failed atomic.Int64
			errs := make(chan error, callers)
			for g := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var out []byte
					for i := range perCaller {
						in := binary.BigEndian.AppendUint64(nil, uint64(g*perCaller+i+1))
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						err := c.Call(ctx, "Echo.Echo", in, &out)
						cancel()
						switch {
						case err == nil && !bytes.Equal(in, out):
							errs <- fmt.Errorf("caller %d got another caller's reply", g)
							return
						case err != nil:
							var e *rpcbench.Error
							if !errors.As(err, &e) {
								errs <- fmt.Errorf("caller %d: error without a code: %v", g, err)
								return
							}
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := failed.Load(); n > 0 {
				t.Errorf("%d of %d calls failed on loopback", n, callers*perCaller)
			}
			c.Close()
		})
	}
}

// countingHandler counts the sessions the transport opens.
type countingHandler struct {
	rpcbench.ConnHandler
	n atomic.Int64
}

func (h *countingHandler) Connect(c rpcbench.ServerConn) rpcbench.Session {
	h.n.Add(1)
	return h.ConnHandler.Connect(c)
}

// An idle client address's session is reaped; the client learns it and
// its next call opens a new session.
func TestIdleReaping(t *testing.T) {
	leakCheck(t)
	tr := newTransport(t, udp.Options{IdleTimeout: 100 * time.Millisecond, DedupTTL: 50 * time.Millisecond})
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	must(t, srv.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }))
	l, err := tr.Listen("127.0.0.1:0")
	must(t, err)
	h := &countingHandler{ConnHandler: srv}
	served := make(chan error, 1)
	go func() { served <- l.Serve(h) }()
	c := transporttest.Dial(t, tr, l.Addr().String(), rpcbench.ClientOptions{HeartbeatInterval: -1})
	var out []byte
	must(t, c.Call(context.Background(), "Echo.Echo", []byte("a"), &out))
	time.Sleep(400 * time.Millisecond)
	must(t, c.Call(context.Background(), "Echo.Echo", []byte("b"), &out))
	if n := h.n.Load(); n != 2 {
		t.Fatalf("%d sessions, want 2 (the first reaped)", n)
	}
	c.Close()
	l.Close()
	srv.Close()
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

// IPv6 loopback, and a dual-stack listener reached over IPv4.
func TestIPv6(t *testing.T) {
	if l, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skip("no IPv6 loopback:", err)
	} else {
		l.Close()
	}
	for _, engine := range udp.Engines {
		for _, listen := range []string{"[::1]:0", "[::]:0"} {
			t.Run(engine+"/"+listen, func(t *testing.T) {
				leakCheck(t)
				tr := newTransport(t, udp.Options{Engine: engine})
				srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
				must(t, srv.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }))
				l, err := tr.Listen(listen)
				must(t, err)
				served := make(chan error, 1)
				go func() { served <- srv.Serve(l) }()
				t.Cleanup(func() { srv.Close(); <-served })
				port := l.Addr().(*net.UDPAddr).Port
				targets := []string{fmt.Sprintf("[::1]:%d", port)}
				if listen == "[::]:0" {
					targets = append(targets, fmt.Sprintf("127.0.0.1:%d", port))
				}
				for _, addr := range targets {
					c := transporttest.Dial(t, tr, addr, rpcbench.ClientOptions{})
					for _, n := range []int{10, 5000} {
						in := bytes.Repeat([]byte{7}, n)
						var out []byte
						must(t, c.Call(context.Background(), "Echo.Echo", in, &out))
						if !bytes.Equal(in, out) {
							t.Fatalf("%s: echo of %d bytes differs", addr, n)
						}
					}
					c.Close()
				}
			})
		}
	}
}
