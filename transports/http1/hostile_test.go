package http1_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/http1"
	"rpcbench/transports/transporttest"
)

// Large bodies leave no memory behind on connections that stay open:
// fasthttp would keep each connection's grown request and response body
// buffers for its next request.
func TestLargeBodiesReturnMemory(t *testing.T) {
	tr, err := http1.New(http1.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	addr := transporttest.ServeEcho(t, tr)
	c := transporttest.Dial(t, tr, addr, rpcbench.ClientOptions{})
	before := transporttest.HeapInUse()
	const calls, size = 8, 1 << 20
	payload := bytes.Repeat([]byte("z"), size)
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			var out []byte
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Call(ctx, "Echo.Echo", payload, &out); err != nil || len(out) != size {
				t.Errorf("call: %v (%d bytes back)", err, len(out))
			}
		})
	}
	wg.Wait()
	grew := int64(transporttest.HeapInUse()) - int64(before)
	t.Logf("%d concurrent %d MiB bodies, connections still open: heap grew %d MiB after", calls, size>>20, grew>>20)
	if grew > 4*size {
		t.Fatalf("heap grew %d MiB after the calls finished", grew>>20)
	}
}

// Connections over MaxConnsPerAddr are closed at once, with a log line.
func TestConnectionCaps(t *testing.T) {
	var log transporttest.Log
	tr, err := http1.New(http1.Options{Logf: log.Logf, Limits: admit.Limits{MaxConnsPerAddr: 2}})
	if err != nil {
		t.Fatal(err)
	}
	addr := transporttest.ServeEcho(t, tr)
	for range 2 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	time.Sleep(50 * time.Millisecond) // accepted in order
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	transporttest.Closed(t, over, 2*time.Second)
	log.Want(t, "refusing", "MaxConnsPerAddr")
}

// announceBody sends a request head announcing a body of n bytes, and the
// first bytes of it.
func announceBody(t *testing.T, nc net.Conn, n int, first string) {
	t.Helper()
	head := fmt.Sprintf("POST /rpc/Echo.Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s", n, first)
	if _, err := nc.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
}

// Connections announcing large bodies and sending little buy no memory:
// the body buffer grows with the bytes received.
func TestAnnouncedLengthBuysNoMemory(t *testing.T) {
	tr, err := http1.New(http1.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	addr := transporttest.ServeEcho(t, tr)
	before := transporttest.HeapInUse()
	const conns, announced = 32, 16 << 20
	for range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		announceBody(t, nc, announced, strings.Repeat("x", 100))
	}
	time.Sleep(300 * time.Millisecond) // the server reads the heads
	grew := int64(transporttest.HeapInUse()) - int64(before)
	t.Logf("%d requests announcing %d MiB each: heap in use grew %d KiB", conns, announced>>20, grew>>10)
	if grew > 8<<20 {
		t.Fatalf("heap grew %d MiB for %d heads (announced %d MiB in all)", grew>>20, conns, conns*announced>>20)
	}
}

// A body trickled byte by byte is cut off at FrameTimeout, with 408, past
// the 8 KiB fasthttp reads with the head and within it.
func TestSlowBodyTimesOut(t *testing.T) {
	const frameTimeout = 400 * time.Millisecond
	for _, prefix := range []int{100, 20 << 10} {
		t.Run(fmt.Sprint(prefix), func(t *testing.T) {
			tr, err := http1.New(http1.Options{Logf: t.Logf, Limits: admit.Limits{FrameTimeout: frameTimeout}})
			if err != nil {
				t.Fatal(err)
			}
			addr := transporttest.ServeEcho(t, tr)
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			announceBody(t, nc, 1<<20, strings.Repeat("x", prefix))
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := nc.Write([]byte("y")); err != nil {
						return
					}
				}
			}()
			start := time.Now()
			nc.SetReadDeadline(start.Add(5 * time.Second))
			resp, _ := io.ReadAll(nc)
			took := time.Since(start)
			t.Logf("trickled body: %q after %v", firstLine(resp), took)
			if !bytes.HasPrefix(resp, []byte("HTTP/1.1 408")) {
				t.Fatalf("got %q, want 408", resp)
			}
			if took > 2*frameTimeout {
				t.Fatalf("cut off after %v, want within %v", took, frameTimeout)
			}
		})
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}
