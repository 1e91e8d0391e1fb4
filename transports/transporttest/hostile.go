package transporttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/wire"
)

// ServeEcho serves StartEcho's methods on tr at a loopback address until
// the test ends, and returns the listener's address. Servers of the
// hostile-client tests run in the test's process so that their heap can be
// measured.
func ServeEcho(tb testing.TB, tr rpcbench.Transport) string {
	tb.Helper()
	srv := echoServer(rpcbench.ServerOptions{Logf: tb.Logf})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(l); close(served) }()
	tb.Cleanup(func() { srv.Close(); <-served })
	return l.Addr().String()
}

// DialTCP opens n TCP connections to addr, which the test closes at its
// end.
func DialTCP(tb testing.TB, addr string, n int) []net.Conn {
	tb.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { nc.Close() })
		conns[i] = nc
	}
	return conns
}

// HeapInUse returns the bytes of heap spans in use after a full collection
// returned what is free to the system.
func HeapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// WantHeapWithin fails the test if the heap in use has grown by more than
// bound since before (a HeapInUse); what names the load for the log line.
func WantHeapWithin(tb testing.TB, before uint64, bound int64, what string) {
	tb.Helper()
	grew := int64(HeapInUse()) - int64(before)
	tb.Logf("%s: heap grew %d KiB (bound %d MiB)", what, grew>>10, bound>>20)
	if grew > bound {
		tb.Fatalf("%s: heap grew %d MiB, over %d MiB", what, grew>>20, bound>>20)
	}
}

// WantEcho fails the test unless an Echo.Echo call of payload on c returns
// it within 5 s.
func WantEcho(tb testing.TB, c *rpcbench.Client, payload []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []byte
	if err := c.Call(ctx, "Echo.Echo", payload, &out); err != nil {
		tb.Fatalf("call of %d bytes: %v", len(payload), err)
	}
	if len(out) != len(payload) {
		tb.Fatalf("call of %d bytes: %d bytes back", len(payload), len(out))
	}
}

// DeadlineWriter is a connection or stream a hostile client writes on.
type DeadlineWriter interface {
	io.Writer
	SetWriteDeadline(time.Time) error
}

// SendPartial writes head and then n zero bytes on each of ws at once, as
// clients that send most of a large request and stall; each write gives up
// after a second without progress (the server stopped reading, or dropped
// the connection). It returns a wait for the writers to be done.
func SendPartial[W DeadlineWriter](ws []W, head []byte, n int) (wait func()) {
	chunk := make([]byte, 256<<10)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			w.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := w.Write(head); err != nil {
				return
			}
			for left := n; left > 0; left -= len(chunk) {
				w.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
					return
				}
			}
		})
	}
	return wg.Wait
}

// EchoRequest returns a request frame for Echo.Echo whose header announces
// payloadLen bytes and which carries the first len(payload) of them.
func EchoRequest(id uint64, payloadLen int, payload []byte) []byte {
	f := wire.Frame{Kind: wire.KindRequest, CallID: rpcbench.CallID("Echo.Echo"), RequestID: id}
	return append(wire.AppendHeader(nil, &f, payloadLen), payload...)
}

// Closed waits up to within for the peer to close nc (a read returns EOF
// or a reset; bytes read meanwhile are discarded) and returns how long
// that took, or fails the test.
func Closed(tb testing.TB, nc net.Conn, within time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	nc.SetReadDeadline(start.Add(within))
	buf := make([]byte, 64<<10)
	for {
		_, err := nc.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			tb.Fatalf("connection still open after %v", within)
		}
		if err != io.EOF && !isReset(err) {
			tb.Logf("connection ended with %v", err)
		}
		return time.Since(start)
	}
}

// ConnCap is a connection cap a test sets, and the word the server logs
// when it refuses a connection over it.
type ConnCap struct {
	Name   string
	Limits admit.Limits
	Want   string
}

// ConnCaps cap the connections at 2, in all (MaxConns) and from one
// address (MaxConnsPerAddr), with the other cap out of the way.
var ConnCaps = []ConnCap{
	{"total", admit.Limits{MaxConns: 2, MaxConnsPerAddr: -1}, "(MaxConns)"},
	{"per-address", admit.Limits{MaxConns: 100, MaxConnsPerAddr: 2}, "(MaxConnsPerAddr)"},
}

// Log collects a server's log lines for a test to check.
type Log struct {
	mu    sync.Mutex
	lines []string
}

// Logf records a line; it has the signature of the transports' Logf.
func (l *Log) Logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// Want fails the test unless a line logged so far contains every one of
// words.
func (l *Log) Want(tb testing.TB, words ...string) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		found := true
		for _, w := range words {
			found = found && strings.Contains(line, w)
		}
		if found {
			return
		}
	}
	tb.Fatalf("no log line contains all of %q; logged: %q", words, l.lines)
}
