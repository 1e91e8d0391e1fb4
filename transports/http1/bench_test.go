package http1_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench"
	"rpcbench/transports/http1"
)

// BenchmarkEcho64 measures a 64-byte echo through rpcbench's http1
// transport (client and server core included) next to raw fasthttp (a
// server echoing the body, HostClient POSTing it), at 1 and 64 concurrent
// callers, client and server in this process. Compare calls/s within one
// run: absolute figures drift on shared machines. allocs/op counts both
// sides.
//
//	go test ./transports/http1 -run '^$' -bench Echo64 -benchtime 2s -count 5
func BenchmarkEcho64(b *testing.B) {
	payload := make([]byte, 64)
	for i := range payload {
		payload[i] = byte(i)
	}
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("stack=fasthttp/callers=%d", callers), func(b *testing.B) {
			benchFasthttpClient(b, callers, payload, startFasthttpEcho(b))
		})
		b.Run(fmt.Sprintf("stack=http1/callers=%d", callers), func(b *testing.B) {
			benchHTTP1Client(b, callers, payload, startHTTP1Echo(b))
		})
	}
}

// BenchmarkEcho64Halves splits the cost: rpcbench's http1 client against a
// raw fasthttp echo server, and raw HostClient against rpcbench's server.
func BenchmarkEcho64Halves(b *testing.B) {
	payload := make([]byte, 64)
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("stack=http1-client+fasthttp-server/callers=%d", callers), func(b *testing.B) {
			benchHTTP1Client(b, callers, payload, startFasthttpEcho(b))
		})
		b.Run(fmt.Sprintf("stack=fasthttp-client+http1-server/callers=%d", callers), func(b *testing.B) {
			benchFasthttpClient(b, callers, payload, startHTTP1Echo(b))
		})
	}
}

// startHTTP1Echo serves Echo.Echo through the server core.
func startHTTP1Echo(b *testing.B) string {
	tr, err := http1.New(http1.Options{Logf: quiet})
	must(b, err)
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: quiet})
	must(b, srv.HandleRaw("Echo.Echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil }))
	l, err := tr.Listen("127.0.0.1:0")
	must(b, err)
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// startFasthttpEcho serves a bare fasthttp handler echoing the body.
func startFasthttpEcho(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(ctx.PostBody())
	}}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func benchHTTP1Client(b *testing.B, callers int, payload []byte, addr string) {
	tr, err := http1.New(http1.Options{Logf: quiet})
	must(b, err)
	c, err := rpcbench.Dial(context.Background(), tr, addr, rpcbench.ClientOptions{Codec: "raw"})
	must(b, err)
	defer c.Close()
	// One cancellable context with a deadline for every call, as the
	// harness's load runs use: each call carries a budget and must be
	// abortable.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	runCallers(b, callers, func() func() error {
		var out []byte
		return func() error {
			if err := c.Call(ctx, "Echo.Echo", payload, &out); err != nil {
				return err
			}
			if len(out) != len(payload) {
				return fmt.Errorf("echo of %d bytes came back with %d", len(payload), len(out))
			}
			return nil
		}
	})
}

func benchFasthttpClient(b *testing.B, callers int, payload []byte, addr string) {
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: http1.DefaultMaxConns, MaxConnWaitTimeout: http1.DefaultMaxConnWait}
	defer hc.CloseIdleConnections()
	runCallers(b, callers, func() func() error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + "/rpc/Echo.Echo")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/octet-stream")
		return func() error {
			req.SetBody(payload)
			if err := hc.Do(req, resp); err != nil {
				return err
			}
			if resp.StatusCode() != fasthttp.StatusOK || len(resp.Body()) != len(payload) {
				return fmt.Errorf("HTTP %d with %d bytes", resp.StatusCode(), len(resp.Body()))
			}
			return nil
		}
	})
}

// runCallers runs b.N calls spread over the given number of goroutines,
// each with its own call function, and reports calls/s.
func runCallers(b *testing.B, callers int, newCall func() func() error) {
	calls := make([]func() error, callers)
	for i := range calls {
		calls[i] = newCall()
		must(b, calls[i]()) // warm: connections, pools
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for _, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	// CPU time per call (client and server, this process) is steadier than
	// calls/s on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}
