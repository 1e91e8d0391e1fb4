package http1_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/services"
	"rpcbench/transports/http1"
)

// testServer is a server core on the http1 transport with the built-in
// services and a few test methods.
type testServer struct {
	srv     *rpcbench.Server
	tr      *http1.Transport
	addr    string
	entered chan struct{} // a token per Block.Wait entered
	ended   chan error    // Block.Wait's context error when it returns
	served  chan error
}

func startServer(t *testing.T, o http1.Options) *testServer {
	t.Helper()
	startFasthttpClock()
	if o.Logf == nil {
		o.Logf = quiet
	}
	tr, err := http1.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{
		srv: rpcbench.NewServer(rpcbench.ServerOptions{Logf: quiet}), tr: tr,
		entered: make(chan struct{}, 1024), ended: make(chan error, 1024), served: make(chan error, 1),
	}
	s := ts.srv
	must(t, services.Register(s))
	must(t, s.HandleRaw("Block.Wait", func(ctx context.Context, b []byte) ([]byte, error) {
		ts.entered <- struct{}{}
		<-ctx.Done()
		ts.ended <- ctx.Err()
		return nil, ctx.Err()
	}))
	must(t, s.HandleRaw("Fail.Error", func(context.Context, []byte) ([]byte, error) { return nil, errors.New("the handler says no") }))
	must(t, s.HandleRaw("Fail.Panic", func(context.Context, []byte) ([]byte, error) { panic("handler exploded") }))
	must(t, s.HandleRaw("Slow.Echo", func(_ context.Context, b []byte) ([]byte, error) {
		time.Sleep(2 * time.Millisecond)
		return b, nil
	}))
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go func() { ts.served <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-ts.served; !errors.Is(err, rpcbench.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ts
}

func (ts *testServer) client(t *testing.T, tr rpcbench.Transport, o rpcbench.ClientOptions) *rpcbench.Client {
	t.Helper()
	if tr == nil {
		tr = ts.tr
	}
	if o.Codec == "" {
		o.Codec = "raw"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, ts.addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// noLeaks checks, when the test ends, that it left no goroutine behind.
// Registered first, it runs after every other cleanup.
func noLeaks(t *testing.T) {
	startFasthttpClock()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}
