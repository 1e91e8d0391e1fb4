package peers

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench/target"
)

// fasthttp's background cleaners sleep out their interval after their
// client or server is closed (HostClient.connsCleaner sleeps
// MaxIdleConnDuration, the server's worker pool 10 s, the dialer's address
// cache 10 s) and then exit; they hold no connection of ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean"),
	)
}

func TestNames(t *testing.T) {
	want := []string{"grpc", "netrpc", "netrpc-json", "raw-fasthttp", "raw-quic", "raw-quic-mux", "raw-tcp-pingpong", "raw-tcp-pipelined", "raw-udp", "raw-udp-batched"}
	if got := strings.Join(Names(), " "); got != strings.Join(want, " ") {
		t.Fatalf("Names() = %s, want %s", got, strings.Join(want, " "))
	}
	for _, n := range want {
		p, ok := Lookup(n)
		if !ok {
			t.Fatalf("Lookup(%q) found nothing", n)
		}
		if s := p.Settings(); s["connections"] == "" || s["codec"] == "" {
			t.Errorf("%s: settings lack connections or codec: %v", n, s)
		}
	}
	if _, ok := Lookup("tcp"); ok {
		t.Error(`Lookup("tcp") found a peer; tcp is an rpcbench transport`)
	}
}

// Every peer: server and target on loopback, several connections and
// callers making calls concurrently, each checked, then everything closed
// (TestMain checks that no goroutine outlives it).
func TestEcho(t *testing.T) {
	const conns, callers, calls = 2, 4, 50
	for _, name := range Names() {
		for _, payload := range []string{"Small", "Medium", "Bytes(0)", "Bytes(8000)"} {
			if name == "raw-udp" && payload == "Bytes(100000)" && false {
				continue
			}
			t.Run(name+"/"+payload, func(t *testing.T) {
				p, _ := Lookup(name)
				addr, stop, err := p.Serve("127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := stop(); err != nil {
						t.Errorf("stop: %v", err)
					}
				}()
				tgt, err := p.NewTarget(target.PeerConfig{Addr: addr, Payload: payload, Seed: 7})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var cs []target.Conn
				defer func() {
					for _, c := range cs {
						if err := c.Close(); err != nil {
							t.Errorf("close: %v", err)
						}
					}
				}()
				for range conns {
					c, err := tgt.Dial(ctx)
					if err != nil {
						t.Fatal(err)
					}
					cs = append(cs, c)
				}
				v, ok := tgt.(target.Verifier)
				if !ok {
					t.Fatal("target does not verify echoes")
				}
				for _, c := range cs {
					if err := v.Verify(ctx, c); err != nil {
						t.Fatal(err)
					}
				}
				callAll(t, ctx, cs, callers, calls)
			})
		}
	}
}

// callAll makes calls calls from each of callers callers on every
// connection of cs at once, and reports every error.
func callAll(t *testing.T, ctx context.Context, cs []target.Conn, callers, calls int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(cs)*callers)
	for _, c := range cs {
		for range callers {
			call, err := c.NewCaller()
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				for range calls {
					if err := call(ctx); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A broken connection fails pending and later calls instead of hanging.
func TestServerGone(t *testing.T) {
	for _, name := range []string{"raw-tcp-pipelined", "raw-tcp-pingpong", "raw-udp-batched", "raw-quic-mux", "grpc", "netrpc"} {
		t.Run(name, func(t *testing.T) {
			p, _ := Lookup(name)
			addr, stop, err := p.Serve("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			tgt, err := p.NewTarget(target.PeerConfig{Addr: addr, Payload: "Small", Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := tgt.Dial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			call, err := c.NewCaller()
			if err != nil {
				t.Fatal(err)
			}
			if err := call(ctx); err != nil {
				t.Fatal(err)
			}
			stop()
			if err := call(ctx); err == nil {
				t.Error("call after the server stopped succeeded")
			}
		})
	}
}
