package transporttest

import (
	"context"
	"testing"
	"time"

	"rpcbench"
)

// StartEcho serves Echo.Echo (raw bytes back, each call on a worker
// goroutine) and Echo.Inline (the same, declared rpcbench.Inline) on tr at a
// loopback address and returns a raw-codec client for it, and a stop
// function that closes both and waits for Serve to return. Benchmarks of
// every transport share it.
func StartEcho(tb testing.TB, tr rpcbench.Transport) (*rpcbench.Client, func()) {
	tb.Helper()
	srv := echoServer(rpcbench.ServerOptions{})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan struct{})
	go func() { srv.Serve(l); close(served) }()
	c, err := rpcbench.Dial(context.Background(), tr, l.Addr().String(), rpcbench.ClientOptions{Codec: "raw"})
	if err != nil {
		srv.Close()
		<-served
		tb.Fatal(err)
	}
	return c, func() { c.Close(); srv.Close(); <-served }
}

// Serve serves srv on tr at a loopback address until the test ends, and
// returns the address.
func Serve(tb testing.TB, tr rpcbench.Transport, srv *rpcbench.Server) string {
	tb.Helper()
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// ServeOn serves srv on tr at listenAddr until the test ends, then shuts
// it down gracefully (calls in flight finish, 5 s at most) and waits for
// Serve to return; it returns the address to dial.
func ServeOn(tb testing.TB, tr rpcbench.Transport, listenAddr string, srv *rpcbench.Server) string {
	tb.Helper()
	l, err := tr.Listen(listenAddr)
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	return l.Addr().String()
}

// Dial returns a client of addr over tr that the test closes at its end;
// o's codec defaults to raw.
func Dial(tb testing.TB, tr rpcbench.Transport, addr string, o rpcbench.ClientOptions) *rpcbench.Client {
	tb.Helper()
	if o.Codec == "" {
		o.Codec = "raw"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, addr, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// echoServer returns a server with StartEcho's methods.
func echoServer(o rpcbench.ServerOptions) *rpcbench.Server {
	srv := rpcbench.NewServer(o)
	echo := func(_ context.Context, p []byte) ([]byte, error) { return p, nil }
	srv.HandleRaw("Echo.Echo", echo)
	srv.HandleRaw("Echo.Inline", echo, rpcbench.Inline())
	return srv
}
