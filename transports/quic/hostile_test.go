package quic_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/quic"
	"rpcbench/transports/tlsconf"
	"rpcbench/transports/transporttest"
	"rpcbench/wire"
)

func hostileServer(t *testing.T, o quic.Options) string {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	tr, err := quic.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return transporttest.ServeEcho(t, tr)
}

// rawConn dials addr with alpn; the test closes it at its end.
func rawConn(t *testing.T, addr, alpn string) *quicgo.Conn {
	t.Helper()
	cfg, err := tlsconf.Load(tlsconf.Settings{Insecure: true}, alpn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := quicgo.DialAddr(ctx, addr, cfg, &quicgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	return conn
}

func openStreams(t *testing.T, conn *quicgo.Conn, n int, first []byte) []*quicgo.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	strs := make([]*quicgo.Stream, n)
	for i := range strs {
		str, err := conn.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := str.Write(first); err != nil {
			t.Fatal(err)
		}
		strs[i] = str
	}
	return strs
}

var alpns = []string{quic.ALPNStream, quic.ALPNMux}

// Streams whose headers announce the largest payload cost the server
// nothing until the payload comes, in both modes.
func TestAnnouncedLengthBuysNoMemory(t *testing.T) {
	for _, alpn := range alpns {
		t.Run(alpn, func(t *testing.T) {
			addr := hostileServer(t, quic.Options{})
			conn := rawConn(t, addr, alpn)
			before := transporttest.HeapInUse()
			const streams = 40
			openStreams(t, conn, streams, transporttest.EchoRequest(1, wire.DefaultMaxPayload, []byte("x")))
			time.Sleep(300 * time.Millisecond)
			grew := int64(transporttest.HeapInUse()) - int64(before)
			t.Logf("%d streams announcing %d MiB each: heap grew %d KiB", streams, wire.DefaultMaxPayload>>20, grew>>10)
			if grew > 16<<20 {
				t.Fatalf("heap grew %d MiB", grew>>20)
			}
		})
	}
}

// A stream that starts a frame and stalls ends its connection at
// FrameTimeout, in both modes.
func TestStalledStreamTimesOut(t *testing.T) {
	const frameTimeout = 300 * time.Millisecond
	for _, alpn := range alpns {
		t.Run(alpn, func(t *testing.T) {
			addr := hostileServer(t, quic.Options{Limits: admit.Limits{FrameTimeout: frameTimeout}})
			conn := rawConn(t, addr, alpn)
			start := time.Now()
			openStreams(t, conn, 3, []byte{wire.Magic})
			select {
			case <-conn.Context().Done():
				took := time.Since(start)
				t.Logf("connection closed after %v: %v", took, context.Cause(conn.Context()))
				if took < frameTimeout/2 {
					t.Fatalf("closed after %v, before the frame timeout", took)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("connection with stalled frames still open after 3s")
			}
		})
	}
}

// One connection's frames in progress share MaxInProgressPerConn: the
// heap stays within it however many streams send large frames.
func TestInProgressPerConnBudget(t *testing.T) {
	const budget = 4 << 20
	for _, alpn := range alpns {
		t.Run(alpn, func(t *testing.T) {
			addr := hostileServer(t, quic.Options{Limits: admit.Limits{MaxInProgressPerConn: budget, FrameTimeout: time.Second}})
			conn := rawConn(t, addr, alpn)
			before := transporttest.HeapInUse()
			strs := openStreams(t, conn, 8, nil)
			transporttest.SendPartial(strs, transporttest.EchoRequest(1, 4<<20, nil), 3<<20)()
			transporttest.WantHeapWithin(t, before, 6*budget, fmt.Sprintf("8 streams sending 3 MiB each, budget %d MiB", budget>>20))
		})
	}
}

// Frames being received on all connections share MaxInProgress: the heap
// stays within it however many connections send large frames, in both
// modes, and a small call still succeeds.
func TestInProgressBudget(t *testing.T) {
	const budget = 4 << 20
	for _, alpn := range alpns {
		t.Run(alpn, func(t *testing.T) {
			addr := hostileServer(t, quic.Options{Limits: admit.Limits{MaxInProgress: budget, FrameTimeout: time.Second}})
			const conns = 16
			var strs []*quicgo.Stream
			for range conns {
				strs = append(strs, openStreams(t, rawConn(t, addr, alpn), 1, nil)...)
			}
			before := transporttest.HeapInUse()
			wait := transporttest.SendPartial(strs, transporttest.EchoRequest(1, 4<<20, nil), 3<<20)
			defer wait()
			time.Sleep(500 * time.Millisecond)
			// quic-go's receive windows (server side) and send buffers
			// (the clients are in this process too) come on top: about
			// 10 MiB here, against 65 MiB and more without the budget.
			transporttest.WantHeapWithin(t, before, 8*budget, fmt.Sprintf("%d connections sending 3 MiB each, budget %d MiB", conns, budget>>20))
			transporttest.WantEcho(t, transporttest.Dial(t, mustQUIC(t, alpn), addr, rpcbench.ClientOptions{}), []byte("small"))
		})
	}
}

// mustQUIC returns a client transport speaking alpn's mode.
func mustQUIC(t *testing.T, alpn string) *quic.Transport {
	t.Helper()
	mode := "stream"
	if alpn == quic.ALPNMux {
		mode = "mux"
	}
	tr, err := quic.New(quic.Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Connections over MaxConns, or over MaxConnsPerAddr from one address, are
// closed at once and logged; a freed slot admits the next.
func TestConnectionCaps(t *testing.T) {
	for _, c := range transporttest.ConnCaps {
		t.Run(c.Name, func(t *testing.T) {
			var log transporttest.Log
			addr := hostileServer(t, quic.Options{Limits: c.Limits, Logf: log.Logf})
			first := rawConn(t, addr, quic.ALPNStream)
			rawConn(t, addr, quic.ALPNStream)
			over := rawConn(t, addr, quic.ALPNStream)
			select {
			case <-over.Context().Done():
				t.Logf("third connection: %v", context.Cause(over.Context()))
			case <-time.After(10 * time.Second): // well within the 30 s idle timeout: a slow machine, not idleness
				t.Fatal("third connection still open")
			}
			log.Want(t, "refusing", c.Want)
			if err := first.Context().Err(); err != nil {
				t.Fatalf("an admitted connection ended: %v", context.Cause(first.Context()))
			}
			first.CloseWithError(0, "")
			// The server learns of the close from the client's packet.
			tr := mustQUIC(t, quic.ALPNStream)
			deadline := time.Now().Add(3 * time.Second)
			for err := echoOnce(t, tr, addr); err != nil; err = echoOnce(t, tr, addr) {
				if time.Now().After(deadline) {
					t.Fatalf("a freed slot admits no connection: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// echoOnce dials addr and makes one call.
func echoOnce(t *testing.T, tr *quic.Transport, addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{Codec: "raw"})
	if err != nil {
		return err
	}
	defer c.Close()
	var out []byte
	return c.Call(ctx, "Echo.Echo", []byte("ping"), &out)
}

// Mux streams have no idle timeout of their own: MaxStreams caps the idle
// streams a client holds open (one more cannot be opened), and the
// connection's idle timeout ends a client that falls silent. The server
// drops such a connection without a word (quic-go's idle timeout), so the
// test sees it by its freed slot under MaxConns 1.
func TestIdleMuxStreamsBounded(t *testing.T) {
	const maxStreams, idle = 8, 500 * time.Millisecond
	addr := hostileServer(t, quic.Options{MaxStreams: maxStreams, MaxIdleTimeout: idle, Limits: admit.Limits{MaxConns: 1}})
	conn := rawConn(t, addr, quic.ALPNMux) // its idle timeout is longer: the lower one holds
	ping := wire.Append(nil, &wire.Frame{Kind: wire.KindPing})
	openStreams(t, conn, maxStreams, ping)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := conn.OpenStreamSync(ctx); err == nil {
		t.Fatalf("stream %d of a connection allowed %d opened", maxStreams+1, maxStreams)
	} else {
		t.Logf("stream %d: %v", maxStreams+1, err)
	}
	tr := mustQUIC(t, quic.ALPNMux)
	deadline := start.Add(idle + 3*time.Second)
	for err := echoOnce(t, tr, addr); err != nil; err = echoOnce(t, tr, addr) {
		if time.Now().After(deadline) {
			t.Fatalf("the silent connection still holds the server's one slot %v after its idle timeout of %v: %v", 3*time.Second, idle, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("the silent connection's slot was free after %v", took)
	if took < idle/2 {
		t.Fatalf("slot free after %v, before the idle timeout of %v", took, idle)
	}
}
