package transporttest

import (
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

// HeapInUse returns the bytes of heap spans in use after a full collection
// returned what is free to the system.
func HeapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
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
