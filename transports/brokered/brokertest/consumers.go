package brokertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"rpcbench"
)

// RunConsumers checks load balancing without a registry: several servers
// consume one service's requests, the broker spreads calls over all of
// them, and when one stops the calls go on to the others, with no client
// told anything. listenAddr must name the same service for every server.
func RunConsumers(t *testing.T, tr rpcbench.Transport, listenAddr string) {
	const servers = 3
	var stop [servers]func()
	addr := ""
	for i := range servers {
		srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
		must(t, srv.HandleRaw("Who.Am", func(context.Context, []byte) ([]byte, error) { return []byte{byte(i)}, nil }))
		l, err := tr.Listen(listenAddr)
		must(t, err)
		if addr == "" {
			addr = l.Addr().String() // an embedded broker's, for the others
			listenAddr = addr
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		stop[i] = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			<-served
		}
		// The server whose listener owns an embedded broker stops last.
		t.Cleanup(func() { stop[i]() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{Codec: "raw"})
	must(t, err)
	defer c.Close()
	count := func(n int) ([servers]int, error) {
		var seen [servers]int
		for range n {
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			var out []byte
			err := c.Call(cctx, "Who.Am", []byte("?"), &out)
			ccancel()
			if err != nil {
				return seen, err
			}
			if len(out) != 1 || int(out[0]) >= servers {
				return seen, fmt.Errorf("reply %v from no server of the test", out)
			}
			seen[out[0]]++
		}
		return seen, nil
	}
	seen, err := count(300)
	must(t, err)
	for i, n := range seen {
		if n == 0 {
			t.Fatalf("server %d answered none of 300 calls (spread %v): the broker does not share the queue", i, seen)
		}
	}
	stopped := servers - 1
	stop[stopped]()
	stop[stopped] = func() {}
	// Calls that were in flight to the stopped server may time out.
	if _, err := count(100); err != nil && !errors.Is(err, rpcbench.ErrDeadlineExceeded) {
		t.Fatalf("after one of %d servers stopped: %v", servers, err)
	}
	seen, err = count(200) // what was in flight to the stopped one is over
	must(t, err)
	if seen[stopped] != 0 {
		t.Fatalf("the stopped server answered %d calls", seen[stopped])
	}
	t.Logf("after server %d stopped: spread %v", stopped, seen)
}
