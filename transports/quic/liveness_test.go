package quic

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/wirestats"
)

// testServer serves Echo.Echo and Block.Wait (which returns when gate is
// closed or its context ends) on a fresh listener.
type testServer struct {
	srv     *rpcbench.Server
	l       *listener
	addr    string
	entered chan struct{}
	gate    chan struct{}
}

func startServer(t *testing.T, tr *Transport) *testServer {
	t.Helper()
	ts := &testServer{
		srv:     rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}}),
		entered: make(chan struct{}, 1024),
		gate:    make(chan struct{}),
	}
	ts.srv.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil })
	ts.srv.HandleRaw("Block.Wait", func(ctx context.Context, b []byte) ([]byte, error) {
		ts.entered <- struct{}{}
		select {
		case <-ts.gate:
			return b, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.l = l.(*listener)
	ts.addr = l.Addr().String()
	go ts.srv.Serve(l)
	t.Cleanup(func() {
		ts.open()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.srv.Shutdown(ctx)
	})
	return ts
}

var gateMu sync.Mutex

func (ts *testServer) open() {
	gateMu.Lock()
	defer gateMu.Unlock()
	select {
	case <-ts.gate:
	default:
		close(ts.gate)
	}
}

func newTransport(t *testing.T, o Options) *Transport {
	t.Helper()
	tr, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// blockCalls starts n Block.Wait calls and waits until all reached the
// handler; their results arrive on the returned channel.
func blockCalls(t *testing.T, ts *testServer, c *rpcbench.Client, n int) chan error {
	t.Helper()
	results := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out []byte
			results <- c.Call(ctx, "Block.Wait", []byte("x"), &out)
		}()
	}
	for i := range n {
		select {
		case <-ts.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d calls reached the handler", i, n)
		}
	}
	return results
}

func expectUnavailable(t *testing.T, results chan error, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for i := range n {
		select {
		case err := <-results:
			if !errors.Is(err, rpcbench.ErrUnavailable) {
				t.Fatalf("pending call %d: got %v, want unavailable", i, err)
			}
			if i == 0 {
				t.Logf("pending calls fail with: %v", err)
			}
		case <-deadline:
			t.Fatalf("pending calls still waiting %v after the server died", within)
		}
	}
}

// TestServerGone kills the server without a word (no CONNECTION_CLOSE) and
// closes its port: the client's next packet draws an ICMP port unreachable,
// which ends the connection at once.
func TestServerGone(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			tr := newTransport(t, Options{Mode: mode, KeepAlivePeriod: 100 * time.Millisecond})
			ts := startServer(t, tr)
			c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{HeartbeatInterval: -1})
			results := blockCalls(t, ts, c, 5)
			ts.l.tr.Close() // destroys every connection silently
			ts.l.udp.Close()
			expectUnavailable(t, results, 5, 3*time.Second)
		})
	}
}

// TestServerSilent stops the server's QUIC stack but keeps its socket open,
// so no ICMP error comes back: the idle time-out must end the connection.
func TestServerSilent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			tr := newTransport(t, Options{Mode: mode, MaxIdleTimeout: time.Second, KeepAlivePeriod: 100 * time.Millisecond})
			ts := startServer(t, tr)
			c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{HeartbeatInterval: -1})
			results := blockCalls(t, ts, c, 5)
			ts.l.tr.Close() // the socket stays open: packets are swallowed
			defer ts.l.udp.Close()
			expectUnavailable(t, results, 5, 5*time.Second)
		})
	}
}

// TestHeartbeat: the core's pings travel and are answered in both modes, so
// a connection idle for many heartbeat intervals stays up.
func TestHeartbeat(t *testing.T) {
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			tr := newTransport(t, Options{Mode: mode})
			ts := startServer(t, tr)
			c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{HeartbeatInterval: 100 * time.Millisecond, HeartbeatMisses: 6})
			time.Sleep(1200 * time.Millisecond) // twice what an unanswered heartbeat survives
			var out []byte
			if err := c.Call(context.Background(), "Echo.Echo", []byte("alive"), &out); err != nil || string(out) != "alive" {
				t.Fatalf("after idle heartbeats: %q, %v", out, err)
			}
		})
	}
}

// TestStreamCredit runs more concurrent calls than the server grants
// streams: calls beyond the limit wait for credit (off the caller's
// goroutine), cancelling one of them works, and all the others complete.
func TestStreamCredit(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("limit=8", testStreamCredit) // cleanups run before the leak check
}

func testStreamCredit(t *testing.T) {
	const limit, extra = 8, 12
	tr := newTransport(t, Options{MaxStreams: limit})
	ts := startServer(t, tr)
	c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{})
	results := blockCalls(t, ts, c, limit)

	waiting := make(chan error, extra)
	for range extra {
		go func() {
			var out []byte
			waiting <- c.Call(context.Background(), "Echo.Echo", []byte("queued"), &out)
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() {
		var out []byte
		canceled <- c.Call(ctx, "Echo.Echo", []byte("gives up"), &out)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-waiting:
		t.Fatalf("a call beyond the stream limit finished early: %v", err)
	default:
	}
	cancel()
	if err := <-canceled; !errors.Is(err, rpcbench.ErrCanceled) {
		t.Fatalf("cancelled while waiting for credit: %v", err)
	}
	ts.open()
	for range limit {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	for range extra {
		if err := <-waiting; err != nil {
			t.Fatal(err)
		}
	}
	// Streams completed, so their credit came back: many more calls pass.
	var out []byte
	for i := range 5 * limit {
		if err := c.Call(context.Background(), "Echo.Echo", []byte{byte(i)}, &out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWireStats: datagram payload bytes are counted on both sides.
func TestWireStats(t *testing.T) {
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			tr := newTransport(t, Options{Mode: mode})
			ts := startServer(t, tr)
			c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{HeartbeatInterval: -1})
			var out []byte
			c.Call(context.Background(), "Echo.Echo", []byte("x"), &out) // settle the handshake
			before := wirestats.Take()
			const n, size = 50, 1000
			for range n {
				if err := c.Call(context.Background(), "Echo.Echo", make([]byte, size), &out); err != nil {
					t.Fatal(err)
				}
			}
			d := wirestats.Take().Sub(before)
			t.Logf("%d calls of %d bytes: client out %d in %d, server in %d out %d", n, size, d.ClientOut, d.ClientIn, d.ServerIn, d.ServerOut)
			for name, v := range map[string]uint64{"client out": d.ClientOut, "client in": d.ClientIn, "server in": d.ServerIn, "server out": d.ServerOut} {
				if v < n*size || v > 3*n*size {
					t.Errorf("%s: %d bytes for %d calls of %d bytes", name, v, n, size)
				}
			}
		})
	}
}

// TestCountingKeepsOptimizations: quic-go sees the counting wrapper as a
// *net.UDPConn would be seen (GSO where the kernel has it).
func TestCountingKeepsOptimizations(t *testing.T) {
	tr := newTransport(t, Options{})
	ts := startServer(t, tr)
	gso := func(pc net.PacketConn) bool {
		qt := &quicgo.Transport{Conn: pc}
		defer qt.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		raddr, _ := net.ResolveUDPAddr("udp", ts.addr)
		conn, err := qt.Dial(ctx, raddr, tr.clientTLS, tr.clientConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseWithError(0, "")
		return conn.ConnectionState().GSO
	}
	plain, err := net.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	raddr, _ := net.ResolveUDPAddr("udp", ts.addr)
	connected, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer connected.Close()
	want := gso(plain)
	if got := gso(newCountingConn(connected, &wirestats.Client, true)); got != want {
		t.Fatalf("GSO with the counting wrapper: %v, on a plain *net.UDPConn: %v", got, want)
	}
	rcv, snd := SocketBuffers()
	t.Logf("GSO %v; socket buffers granted: receive %d KiB, send %d KiB", want, rcv>>10, snd>>10)
}

// TestServerCloseInFlight: Server.Close (no draining) with calls blocked in
// handlers: the go-away cannot be honoured by a client still waiting, so
// the server hangs up after closeLinger and the calls fail as unavailable.
func TestServerCloseInFlight(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, mode := range Modes {
		t.Run(mode, func(t *testing.T) {
			tr := newTransport(t, Options{Mode: mode})
			ts := startServer(t, tr)
			c := transporttest.Dial(t, tr, ts.addr, rpcbench.ClientOptions{})
			results := blockCalls(t, ts, c, 5)
			ts.srv.Close()
			expectUnavailable(t, results, 5, closeLinger+3*time.Second)
			var out []byte
			if err := c.Call(context.Background(), "Echo.Echo", []byte("x"), &out); !errors.Is(err, rpcbench.ErrUnavailable) {
				t.Fatalf("call after Close: %v", err)
			}
		})
	}
}
