package quic_test

import (
	"context"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

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
			strs := openStreams(t, conn, 8, transporttest.EchoRequest(1, 4<<20, nil))
			chunk := make([]byte, 256<<10)
			var wg sync.WaitGroup
			for _, str := range strs {
				wg.Go(func() {
					str.SetWriteDeadline(time.Now().Add(time.Second))
					for range 12 { // 3 MiB of the 4
						if _, err := str.Write(chunk); err != nil {
							return
						}
					}
				})
			}
			wg.Wait()
			grew := int64(transporttest.HeapInUse()) - int64(before)
			t.Logf("8 streams sending 3 MiB each, budget %d MiB: heap grew %d MiB", budget>>20, grew>>20)
			if grew > 6*budget {
				t.Fatalf("heap grew %d MiB with a per-connection budget of %d MiB", grew>>20, budget>>20)
			}
		})
	}
}

// Connections over the caps are closed at once, with a log line.
func TestConnectionCaps(t *testing.T) {
	var log transporttest.Log
	addr := hostileServer(t, quic.Options{Limits: admit.Limits{MaxConns: 10, MaxConnsPerAddr: 2}, Logf: log.Logf})
	for range 2 {
		rawConn(t, addr, quic.ALPNStream)
	}
	over := rawConn(t, addr, quic.ALPNStream)
	select {
	case <-over.Context().Done():
		t.Logf("third connection: %v", context.Cause(over.Context()))
	case <-time.After(10 * time.Second): // well within the 30 s idle timeout: a slow machine, not idleness
		t.Fatal("third connection from one address still open")
	}
	log.Want(t, "refusing", "MaxConnsPerAddr")
}
