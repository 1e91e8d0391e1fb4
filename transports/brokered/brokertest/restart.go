// Package brokertest holds the tests every brokered transport runs beside
// the conformance suite (package transporttest): what only a broker can
// do to its clients and servers.
package brokertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/transporttest"
)

// Broker is a broker a test can stop and start again at the same address.
type Broker struct {
	// Addr is what listeners are given (a broker URL).
	Addr        string
	Stop, Start func(t *testing.T)
}

// RunRestart checks a broker restart in the middle of a run: calls in
// flight and calls made while the broker is down fail with unavailable,
// promptly; once it is back, the server's link reconnects by itself and
// the client's next calls dial again and succeed.
func RunRestart(t *testing.T, tr rpcbench.Transport, b Broker) {
	entered := make(chan struct{}, 64)
	addr := serve(t, tr, b.Addr, func(srv *rpcbench.Server) {
		must(t, srv.HandleRaw("Block.Wait", func(ctx context.Context, _ []byte) ([]byte, error) {
			entered <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{Codec: "raw"})
	must(t, err)
	defer c.Close()
	var out []byte
	must(t, c.Call(ctx, "Echo.Echo", []byte("before"), &out))

	const inflight = 4
	results := make(chan error, inflight)
	for range inflight {
		go func() {
			var out []byte
			results <- c.Call(ctx, "Block.Wait", []byte("x"), &out)
		}()
	}
	for range inflight {
		select {
		case <-entered:
		case err := <-results:
			t.Fatalf("a blocking call returned before the broker stopped: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("blocking calls did not reach the handler")
		}
	}
	b.Stop(t)
	for range inflight {
		select {
		case err := <-results:
			if !errors.Is(err, rpcbench.ErrUnavailable) {
				t.Fatalf("call in flight when the broker stopped: got %v, want unavailable", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("calls in flight did not fail within 10s of the broker stopping")
		}
	}
	start := time.Now()
	err = c.Call(ctx, "Echo.Echo", []byte("down"), &out)
	if !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("call while the broker is down: got %v, want unavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a call while the broker is down took %v to fail", d)
	}

	b.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Call(ctx, "Echo.Echo", []byte("after"), &out)
		if err == nil && string(out) == "after" {
			break
		}
		if !errors.Is(err, rpcbench.ErrUnavailable) {
			t.Fatalf("call after the broker restarted: got %v, want success or unavailable while reconnecting", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call succeeded within 30s of the broker restarting: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serve starts a server with Echo.Echo and what more registers on
// tr at listenAddr until the test ends, and returns the address to dial.
func serve(t *testing.T, tr rpcbench.Transport, listenAddr string, more func(*rpcbench.Server)) string {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	must(t, srv.HandleRaw("Echo.Echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil }))
	if more != nil {
		more(srv)
	}
	return transporttest.ServeOn(t, tr, listenAddr, srv)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
