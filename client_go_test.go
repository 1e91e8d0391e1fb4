package rpcbench_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/http1"
	"rpcbench/transports/transporttest"
)

// echoServer serves T.Echo and T.Block; T.Block sends nil on block when it
// starts and its context's error when that ends.
func echoServer(block chan error) *rpcbench.Server {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	srv.HandleRaw("T.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil })
	srv.HandleRaw("T.Block", func(ctx context.Context, _ []byte) ([]byte, error) {
		block <- nil
		<-ctx.Done()
		block <- ctx.Err()
		return nil, ctx.Err()
	})
	return srv
}

// TestGo: many asynchronous calls in flight on one connection each get
// their own reply; Done is closed once a call completes, and Wait returns
// the same result however often it is asked.
func TestGo(t *testing.T) {
	c := serveTCP(t, echoServer(nil), rpcbench.ClientOptions{Codec: "raw"})
	const n = 100
	outs := make([][]byte, n)
	futures := make([]*rpcbench.Future, n)
	for i := range futures {
		futures[i] = c.Go(context.Background(), "T.Echo", []byte(fmt.Sprint(i)), &outs[i])
	}
	for i, f := range futures {
		select {
		case <-f.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d: Done never closed", i)
		}
		if err := f.Wait(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := string(outs[i]); got != fmt.Sprint(i) {
			t.Fatalf("call %d got reply %q", i, got)
		}
		if err := f.Wait(); err != nil {
			t.Fatalf("call %d: second Wait: %v", i, err)
		}
	}
	// Unknown methods fail through the Future like through Call.
	if err := c.Go(context.Background(), "T.Nope", []byte{}, nil).Wait(); !errors.Is(err, rpcbench.ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}
}

// TestGoCancel: ending the context of a call started by Go fails it with
// canceled without anyone waiting (Done closes), and the cancel reaches
// the handler.
func TestGoCancel(t *testing.T) {
	block := make(chan error, 2)
	c := serveTCP(t, echoServer(block), rpcbench.ClientOptions{Codec: "raw"})
	ctx, cancel := context.WithCancel(context.Background())
	f := c.Go(ctx, "T.Block", []byte{}, nil)
	<-block // the call reached its handler
	cancel()
	select {
	case <-f.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done never closed after the context ended")
	}
	if err := f.Wait(); !errors.Is(err, rpcbench.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel: %v", err)
	}
	select {
	case err := <-block:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the handler's context ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancel never reached the handler")
	}
	// The connection carries on.
	var out []byte
	if err := c.Go(context.Background(), "T.Echo", []byte("on"), &out).Wait(); err != nil || string(out) != "on" {
		t.Fatalf("call after a cancel: %q %v", out, err)
	}
}

// TestGoFails: a call in flight fails when its client closes, and Go on a
// closed client fails at once.
func TestGoFails(t *testing.T) {
	block := make(chan error, 2)
	c := serveTCP(t, echoServer(block), rpcbench.ClientOptions{Codec: "raw"})
	f := c.Go(context.Background(), "T.Block", []byte{}, nil)
	<-block // in flight: the handler has it
	c.Close()
	if err := f.Wait(); !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("call in flight on a closed client: %v", err)
	}
	f = c.Go(context.Background(), "T.Echo", []byte{}, nil)
	select {
	case <-f.Done():
	default:
		t.Fatal("Go on a closed client is not done at once")
	}
	if err := f.Wait(); !errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatalf("Go on a closed client: %v", err)
	}
}

// TestGoExchanger: over HTTP/1.1 (an Exchanger: no shared reader) Go runs
// the exchange on its own goroutine, with the same results.
func TestGoExchanger(t *testing.T) {
	tr, err := http1.New(http1.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := transporttest.Dial(t, tr, transporttest.Serve(t, tr, echoServer(nil)), rpcbench.ClientOptions{})
	var a, b []byte
	fa := c.Go(context.Background(), "T.Echo", []byte("a"), &a)
	fb := c.Go(context.Background(), "T.Echo", []byte("b"), &b)
	<-fb.Done()
	if err := errors.Join(fa.Wait(), fb.Wait()); err != nil || string(a) != "a" || string(b) != "b" {
		t.Fatalf("replies %q %q, %v", a, b, err)
	}
	// The method name travels beside the frame to the server core, which
	// names it in its error (a frame alone carries only the call ID).
	if err := c.Go(context.Background(), "T.Nope", []byte{}, nil).Wait(); !errors.Is(err, rpcbench.ErrUnknownMethod) || !strings.Contains(err.Error(), `no method "T.Nope"`) {
		t.Fatalf("unknown method over HTTP: %v", err)
	}
}
