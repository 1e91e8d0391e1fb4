package http1_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/http1"
	"rpcbench/wirestats"
)

// TestBurstQueues: far more concurrent calls than connections wait for a
// free connection instead of failing.
func TestBurstQueues(t *testing.T) {
	noLeaks(t)
	ts := startServer(t, http1.Options{MaxConns: 2})
	c := ts.client(t, nil, rpcbench.ClientOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := []byte(fmt.Sprint(i))
			var out []byte
			if err := c.Call(callCtx(t), "Slow.Echo", in, &out); err != nil {
				errs <- err
			} else if !bytes.Equal(in, out) {
				errs <- fmt.Errorf("call %d: got %q", i, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestMaxConnWait: a call that finds every connection busy for longer than
// MaxConnWait fails with resource_exhausted.
func TestMaxConnWait(t *testing.T) {
	noLeaks(t)
	ts := startServer(t, http1.Options{})
	tr, err := http1.New(http1.Options{MaxConns: 1, MaxConnWait: 50 * time.Millisecond})
	must(t, err)
	c := ts.client(t, tr, rpcbench.ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	blocked := make(chan error, 1)
	go func() {
		var out []byte
		blocked <- c.Call(ctx, "Block.Wait", []byte("x"), &out)
	}()
	<-ts.entered
	var out []byte
	start := time.Now()
	err = c.Call(callCtx(t), "Echo.Echo", []byte("y"), &out)
	if !errors.Is(err, rpcbench.ErrResourceExhausted) || !strings.Contains(err.Error(), "MaxConns") {
		t.Fatalf("got %v, want resource exhausted naming MaxConns", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v to give up", d)
	}
	cancel()
	if err := <-blocked; !errors.Is(err, rpcbench.ErrCanceled) {
		t.Fatalf("blocked call: %v", err)
	}
	must(t, c.Call(callCtx(t), "Echo.Echo", []byte("z"), &out))
}

// TestDeadServer: a server that accepts but never answers fails pending
// calls with unavailable once heartbeats go unanswered.
func TestDeadServer(t *testing.T) {
	noLeaks(t)
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			nc, err := nl.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			go io.Copy(io.Discard, nc)
		}
	}()
	defer func() {
		nl.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	}()
	tr, err := http1.New(http1.Options{PingTimeout: 100 * time.Millisecond})
	must(t, err)
	c, err := rpcbench.Dial(context.Background(), tr, nl.Addr().String(),
		rpcbench.ClientOptions{Codec: "raw", HeartbeatInterval: 50 * time.Millisecond, HeartbeatMisses: 3})
	must(t, err)
	defer c.Close()
	start := time.Now()
	var out []byte
	err = c.Call(context.Background(), "Echo.Echo", []byte("anyone?"), &out) // no deadline
	if !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("got %v, want unavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v to notice a dead server", d)
	}
}

// TestServerClose: an abrupt Close fails calls in flight with unavailable.
func TestServerClose(t *testing.T) {
	noLeaks(t)
	ts := startServer(t, http1.Options{})
	c := ts.client(t, nil, rpcbench.ClientOptions{})
	done := make(chan error, 1)
	go func() {
		var out []byte
		done <- c.Call(callCtx(t), "Block.Wait", []byte("x"), &out)
	}()
	<-ts.entered
	ts.srv.Close()
	select {
	case err := <-done:
		if !errors.Is(err, rpcbench.ErrUnavailable) {
			t.Fatalf("got %v, want unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call outlived the server")
	}
}

// TestIdleReconnect: connections the client closed when idle are replaced.
func TestIdleReconnect(t *testing.T) {
	noLeaks(t)
	ts := startServer(t, http1.Options{})
	tr, err := http1.New(http1.Options{MaxIdleConnDuration: 20 * time.Millisecond})
	must(t, err)
	c := ts.client(t, tr, rpcbench.ClientOptions{})
	var out []byte
	for i := 0; i < 3; i++ {
		must(t, c.Call(callCtx(t), "Echo.Echo", []byte("x"), &out))
		time.Sleep(60 * time.Millisecond)
	}
}

func TestIdleTimeoutOrder(t *testing.T) {
	_, err := http1.New(http1.Options{IdleTimeout: 10 * time.Second, MaxIdleConnDuration: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "below the server's IdleTimeout") {
		t.Fatalf("got %v", err)
	}
}

// TestCompression: compressed requests and replies carry Content-Encoding.
func TestCompression(t *testing.T) {
	ts := startServer(t, http1.Options{})
	for _, comp := range []string{"zstd", "gzip"} {
		c := ts.client(t, nil, rpcbench.ClientOptions{Compression: comp})
		in := bytes.Repeat([]byte("compress me "), 1000)
		var out []byte
		must(t, c.Call(callCtx(t), "Echo.Echo", in, &out))
		if !bytes.Equal(in, out) {
			t.Fatalf("%s: reply differs", comp)
		}
	}
}

// TestWireBytes: the transport counts its socket bytes on both sides.
func TestWireBytes(t *testing.T) {
	ts := startServer(t, http1.Options{})
	c := ts.client(t, nil, rpcbench.ClientOptions{})
	before := wirestats.Take()
	var out []byte
	must(t, c.Call(callCtx(t), "Echo.Echo", make([]byte, 1000), &out))
	// The server counts its write when Write returns, which may be after
	// the client has the reply.
	var d wirestats.Snapshot
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if d = wirestats.Take().Sub(before); d.ServerOut > 0 {
			break
		}
	}
	if d.ClientOut < 1000 || d.ServerIn < 1000 || d.ServerOut < 1000 || d.ClientIn < 1000 {
		t.Fatalf("byte counts %+v: each direction should count the 1000-byte body and headers", d)
	}
}
