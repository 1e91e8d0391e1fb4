package http1_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
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

// Connections over MaxConns, or over MaxConnsPerAddr from one address, are
// closed at once and logged; a freed slot admits the next.
func TestConnectionCaps(t *testing.T) {
	for _, c := range transporttest.ConnCaps {
		t.Run(c.Name, func(t *testing.T) {
			var log transporttest.Log
			addr := hostileServer(t, http1.Options{Logf: log.Logf, Limits: c.Limits})
			conns := transporttest.DialTCP(t, addr, 2)
			for _, nc := range conns { // admitted: they are answered
				if err := echoOnce(nc); err != nil {
					t.Fatal(err)
				}
			}
			over := transporttest.DialTCP(t, addr, 1)[0]
			transporttest.Closed(t, over, 2*time.Second)
			log.Want(t, "refusing", c.Want)
			conns[0].Close()
			// The server notices the close when its read returns.
			deadline := time.Now().Add(3 * time.Second)
			for err := echoOnce(transporttest.DialTCP(t, addr, 1)[0]); err != nil; err = echoOnce(transporttest.DialTCP(t, addr, 1)[0]) {
				if time.Now().After(deadline) {
					t.Fatalf("a freed slot admits no connection: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func hostileServer(t *testing.T, o http1.Options) string {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	tr, err := http1.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return transporttest.ServeEcho(t, tr)
}

// echoOnce makes one Echo.Echo request on nc and reports an error unless
// it is answered with 200 within 3 s.
func echoOnce(nc net.Conn) error {
	if _, err := nc.Write(append(bodyHead(4), "ping"...)); err != nil {
		return err
	}
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// Bodies being received share MaxInProgress: connections whose large bodies
// cannot get memory in time are refused, the heap stays within the budget,
// and small calls go on meanwhile.
func TestInProgressBudget(t *testing.T) {
	const budget = 4 << 20
	addr := hostileServer(t, http1.Options{Limits: admit.Limits{MaxInProgress: budget, FrameTimeout: time.Second}})
	before := transporttest.HeapInUse()
	const conns = 8
	// 3 MiB of a 4 MiB body each, then nothing.
	wait := transporttest.SendPartial(transporttest.DialTCP(t, addr, conns), bodyHead(4<<20), 3<<20)
	defer wait()
	time.Sleep(300 * time.Millisecond)
	transporttest.WantHeapWithin(t, before, 3*budget, fmt.Sprintf("%d connections sending 3 MiB each, budget %d MiB", conns, budget>>20))
	tr, err := http1.New(http1.Options{})
	if err != nil {
		t.Fatal(err)
	}
	transporttest.WantEcho(t, transporttest.Dial(t, tr, addr, rpcbench.ClientOptions{}), []byte("small"))
}

// MaxInProgressPerConn caps one body's buffer below MaxPayload: a body that
// outgrows it is refused with 429 (not left to time out), and connections
// sending such bodies hold at most the cap each.
func TestInProgressPerConnBudget(t *testing.T) {
	const perConn = 1 << 20
	addr := hostileServer(t, http1.Options{Limits: admit.Limits{MaxInProgressPerConn: perConn, FrameTimeout: time.Second}})
	before := transporttest.HeapInUse()
	const conns = 8
	ncs := transporttest.DialTCP(t, addr, conns)
	wait := transporttest.SendPartial(ncs, bodyHead(4<<20), 3<<20)
	defer wait()
	time.Sleep(300 * time.Millisecond)
	transporttest.WantHeapWithin(t, before, 2*conns*perConn, fmt.Sprintf("%d connections sending 3 MiB bodies, %d MiB each allowed", conns, perConn>>20))
	for _, nc := range ncs {
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, _ := io.ReadAll(nc)
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 429")) || !bytes.Contains(resp, []byte("MaxInProgressPerConn")) {
			t.Fatalf("got %q, want 429 naming MaxInProgressPerConn", resp)
		}
	}
}

// announceBody sends a request head announcing a body of n bytes, and the
// first bytes of it.
func announceBody(t *testing.T, nc net.Conn, n int, first string) {
	t.Helper()
	if _, err := nc.Write(append(bodyHead(n), first...)); err != nil {
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
			nc := dialFrameTimeout(t, http1.Options{Logf: t.Logf, Limits: admit.Limits{FrameTimeout: frameTimeout}})
			announceBody(t, nc, 1<<20, strings.Repeat("x", prefix))
			resp, took := trickle(nc, func(int) []byte { return []byte("y") })
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

// dialFrameTimeout serves echo with opts and returns a raw connection to it.
func dialFrameTimeout(t *testing.T, opts http1.Options) net.Conn {
	t.Helper()
	tr, err := http1.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", transporttest.ServeEcho(t, tr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// trickle writes next(i) on nc every 50 ms until the server answers and
// closes (or 5 s pass), and returns what it answered and when.
func trickle(nc net.Conn, next func(i int) []byte) (resp []byte, took time.Duration) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := nc.Write(next(i)); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	nc.SetReadDeadline(start.Add(5 * time.Second))
	resp, _ = io.ReadAll(nc)
	return resp, time.Since(start)
}

// bodyHead is the head of an Echo.Echo request whose body is n bytes.
func bodyHead(n int) []byte {
	return fmt.Appendf(nil, "POST /rpc/Echo.Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", n)
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}

// A request head trickled a header line at a time, each read well within
// fasthttp's ReadTimeout, is still cut off at FrameTimeout from its first
// byte: the frame deadline is armed before the second read of a head.
func TestSlowHeadTimesOut(t *testing.T) {
	const frameTimeout = 400 * time.Millisecond
	nc := dialFrameTimeout(t, http1.Options{Logf: t.Logf, ReadTimeout: time.Minute, Limits: admit.Limits{FrameTimeout: frameTimeout}})
	if _, err := nc.Write([]byte("POST /rpc/Echo.Echo HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, took := trickle(nc, func(i int) []byte { return fmt.Appendf(nil, "X-Pad-%d: y\r\n", i) })
	t.Logf("trickled head: %q after %v", firstLine(resp), took)
	if took > 2*frameTimeout {
		t.Fatalf("connection held for %v by a trickled head, want it cut within %v", took, frameTimeout)
	}
}
