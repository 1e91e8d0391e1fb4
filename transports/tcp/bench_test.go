package tcp_test

import (
	"context"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"rpcbench"
	"rpcbench/transports/tcp"
	"rpcbench/transports/transporttest"
)

// The 64-byte echo through the whole core, beside net/rpc in the same run.
// Run: go test ./transports/tcp -run '^$' -bench . -benchmem -count 5

var payload64 = make([]byte, 64)

func startEcho(b testing.TB, engine string) (*rpcbench.Client, func()) {
	tr, err := tcp.New(tcp.Options{Engine: engine, GnetLoops: gnetLoops})
	if err != nil {
		b.Fatal(err)
	}
	return transporttest.StartEcho(b, tr)
}

// runConcurrent runs b.N calls from conc goroutines and reports calls/s.
func runConcurrent(b *testing.B, conc int, call func(out *[]byte) error) {
	b.ReportAllocs()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	b.ResetTimer()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			for left.Add(-1) >= 0 {
				if err := call(&out); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkEcho64(b *testing.B) {
	for _, engine := range tcp.Engines {
		for _, dispatch := range []string{"worker", "inline"} {
			method := map[string]string{"worker": "Echo.Echo", "inline": "Echo.Inline"}[dispatch]
			for _, conc := range []int{1, 64} {
				b.Run(fmt.Sprintf("stack=rpcbench-%s-%s/conc=%d", engine, dispatch, conc), func(b *testing.B) {
					c, stop := startEcho(b, engine)
					defer stop()
					ctx := context.Background()
					runConcurrent(b, conc, func(out *[]byte) error { return c.Call(ctx, method, &payload64, out) })
				})
			}
		}
	}
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprintf("stack=netrpc/conc=%d", conc), func(b *testing.B) {
			c, stop := startNetRPC(b)
			defer stop()
			runConcurrent(b, conc, func(out *[]byte) error { return c.Call("Echo.Echo", payload64, out) })
		})
	}
}

// Echo is the net/rpc reference service.
type Echo struct{}

func (Echo) Echo(in []byte, out *[]byte) error { *out = in; return nil }

func startNetRPC(b testing.TB) (*rpc.Client, func()) {
	srv := rpc.NewServer()
	if err := srv.Register(Echo{}); err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { // srv.Accept would log the listener's closing
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(conn)
		}
	}()
	c, err := rpc.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return c, func() { c.Close(); l.Close() }
}

// TestAllocsPerCall guards the steady-state allocations of one call, client
// and server together (both run in this process), with the raw codec. An
// asynchronous call (Go, then Wait) costs at most one allocation more than
// Call, its Future: the call itself is pooled, registered with the
// connection's calls in flight and completed by its reader, with no
// goroutine of its own.
func TestAllocsPerCall(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c, stop := startEcho(t, "net")
	defer stop()
	ctx := context.Background()
	var out []byte
	for i := 0; i < 1000; i++ { // warm pools and maps
		c.Call(ctx, "Echo.Echo", payload64, &out)
	}
	// A call on the worker path allocates its state; an inline call's is
	// recycled. Both stay within the 2 the project allows.
	for method, most := range map[string]float64{"Echo.Echo": 1, "Echo.Inline": 0} {
		runtime.GC()
		n := testing.AllocsPerRun(2000, func() {
			if err := c.Call(ctx, method, &payload64, &out); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.2f allocations per call (client + server)", method, n)
		if n > most {
			t.Fatalf("%s: %.2f allocations per call, want <= %v", method, n, most)
		}
		runtime.GC()
		async := testing.AllocsPerRun(2000, func() {
			if err := c.Go(ctx, method, &payload64, &out).Wait(); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.2f allocations per Go+Wait (client + server)", method, async)
		if async > n+1 {
			t.Fatalf("%s: %.2f allocations per Go+Wait, Call %.2f: want at most one more", method, async, n)
		}
	}
}

var gnetLoops = envInt("GNET_LOOPS")

func envInt(k string) int { n, _ := strconv.Atoi(os.Getenv(k)); return n }
