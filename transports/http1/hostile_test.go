package http1_test

import (
	"bytes"
	"context"
	"net"
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
