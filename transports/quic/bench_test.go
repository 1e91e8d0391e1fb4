package quic

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/wirestats"
)

// BenchmarkEcho64 measures a 64-byte echo, client and server in this
// process, one QUIC connection, closed loop with c concurrent callers:
//
//	impl=raw        quic-go alone, one stream per call: the reference
//	impl=raw+count  the same over this package's byte-counting sockets
//	impl=stream     rpcbench, stream mode
//	impl=mux        rpcbench, mux mode on one stream
//	impl=mux4       rpcbench, mux mode on four streams
//
// Read the results as ratios to impl=raw at the same c, measured in the
// same run: go test -run '^$' -bench Echo64 -count 5 ./transports/quic/
func BenchmarkEcho64(b *testing.B) {
	payload := make([]byte, 64)
	for _, c := range []int{1, 64} {
		for _, impl := range []string{"raw", "raw+count", "stream", "mux", "mux4"} {
			b.Run(fmt.Sprintf("impl=%s/c=%d", impl, c), func(b *testing.B) {
				var lost atomic.Uint64
				testHookConn = func(conn *quicgo.Conn) {
					context.AfterFunc(conn.Context(), func() { lost.Add(conn.ConnectionStats().PacketsLost) })
				}
				defer func() { testHookConn = nil }()
				var call func() error
				var cleanup func()
				switch impl {
				case "raw", "raw+count":
					call, cleanup = rawEcho(b, impl == "raw+count", payload)
				default:
					call, cleanup = rpcEcho(b, impl, payload)
				}
				before := wirestats.Take()
				closedLoop(b, c, call)
				d := wirestats.Take().Sub(before)
				cleanup()
				if impl != "raw" {
					b.ReportMetric(float64(d.ClientOut+d.ClientIn)/float64(b.N), "wireB/op")
				}
				b.ReportMetric(float64(lost.Load()), "lost")
			})
		}
	}
}

// closedLoop runs b.N calls on c goroutines and reports calls/s.
func closedLoop(b *testing.B, c int, call func() error) {
	b.ReportAllocs()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range c {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func rpcEcho(b testing.TB, impl string, payload []byte) (func() error, func()) {
	o := Options{Mode: "stream"}
	switch impl {
	case "mux":
		o = Options{Mode: "mux"}
	case "mux4":
		o = Options{Mode: "mux", MuxStreams: 4}
	}
	tr, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	srv.HandleRaw("Echo.Echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil })
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	client, err := rpcbench.Dial(context.Background(), tr, l.Addr().String(), rpcbench.ClientOptions{Codec: "raw"})
	if err != nil {
		b.Fatal(err)
	}
	var outs = sync.Pool{New: func() any { return new([]byte) }}
	var req any = payload // boxed once: the caller's cost, not the transport's
	call := func() error {
		out := outs.Get().(*[]byte)
		err := client.Call(context.Background(), "Echo.Echo", req, out)
		if err == nil && len(*out) != len(payload) {
			err = fmt.Errorf("echo returned %d bytes", len(*out))
		}
		outs.Put(out)
		return err
	}
	return call, func() {
		client.Close()
		srv.Shutdown(context.Background())
	}
}

// rawEcho is quic-go alone: the client opens a stream per call, writes the
// payload and closes; the server reads to EOF, writes it back and closes;
// the client reads to EOF. Same TLS and QUIC settings as the transport.
func rawEcho(b testing.TB, count bool, payload []byte) (func() error, func()) {
	tr, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	sudp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	cudp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	var spc, cpc net.PacketConn = sudp, cudp
	if count {
		// The wrapper alone: the client socket stays unconnected, as in
		// impl=raw, so that only the counting differs.
		spc = newCountingConn(sudp, &wirestats.Server, false)
		cpc = newCountingConn(cudp, &wirestats.Client, false)
	}
	st := &quicgo.Transport{Conn: spc}
	ln, err := st.Listen(tr.serverTLS, tr.serverConfig())
	if err != nil {
		b.Fatal(err)
	}
	var served sync.WaitGroup
	served.Go(func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			served.Go(func() {
				for {
					str, err := conn.AcceptStream(context.Background())
					if err != nil {
						return
					}
					go rawServe(str)
				}
			})
		}
	})
	ct := &quicgo.Transport{Conn: cpc}
	conn, err := ct.Dial(context.Background(), sudp.LocalAddr(), tr.clientTLS, tr.clientConfig())
	if err != nil {
		b.Fatal(err)
	}
	if testHookConn != nil {
		testHookConn(conn)
	}
	bufs := sync.Pool{New: func() any { b := make([]byte, 512); return &b }}
	call := func() error {
		str, err := conn.OpenStreamSync(context.Background())
		if err != nil {
			return err
		}
		if _, err := str.Write(payload); err != nil {
			return err
		}
		str.Close()
		buf := bufs.Get().(*[]byte)
		n, err := readAll(str, *buf)
		bufs.Put(buf)
		if err != nil {
			return err
		}
		if n != len(payload) {
			return fmt.Errorf("raw echo returned %d bytes", n)
		}
		return nil
	}
	return call, func() {
		conn.CloseWithError(0, "")
		ct.Close()
		ln.Close()
		st.Close()
		served.Wait()
		sudp.Close()
		cudp.Close()
	}
}

var rawBufs = sync.Pool{New: func() any { b := make([]byte, 512); return &b }}

func rawServe(str *quicgo.Stream) {
	buf := rawBufs.Get().(*[]byte)
	defer rawBufs.Put(buf)
	n, err := readAll(str, *buf)
	if err != nil {
		str.CancelWrite(1)
		return
	}
	str.Write((*buf)[:n])
	str.Close()
}

// readAll reads r to EOF into buf (which must be large enough).
func readAll(r io.Reader, buf []byte) (int, error) {
	n := 0
	for {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if n == len(buf) {
			return n, io.ErrShortBuffer
		}
	}
}

var ratioTime = flag.Duration("quic.ratio", 0, "run TestEchoRatios for about this long per concurrency level")

// TestEchoRatios is BenchmarkEcho64 measured for ratios on a noisy machine:
// every implementation is set up at once, then short closed-loop rounds run
// in turn (in a new random order each round), so that drift in the
// machine's load falls on all of them alike. It reports medians over the
// rounds of calls/s and its ratio to impl=raw in the same round, of process
// CPU time per call (steadier than calls/s when other processes compete for
// the cores) and of allocations per call (whole process: client, server and
// quic-go). It measures, it never fails on a number:
//
//	go test -run TestEchoRatios ./transports/quic/ -quic.ratio=20s
func TestEchoRatios(t *testing.T) {
	if *ratioTime <= 0 {
		t.Skip("a measurement; run with -quic.ratio=20s")
	}
	impls := []string{"raw", "raw+count", "stream", "mux", "mux4"}
	payload := make([]byte, 64)
	for _, c := range []int{1, 64} {
		calls := map[string]func() error{}
		var cleanups []func()
		for _, impl := range impls {
			var call func() error
			var cleanup func()
			if impl == "raw" || impl == "raw+count" {
				call, cleanup = rawEcho(t, impl == "raw+count", payload)
			} else {
				call, cleanup = rpcEcho(t, impl, payload)
			}
			calls[impl], cleanups = call, append(cleanups, cleanup)
			closedLoopFor(t, c, 100*time.Millisecond, call) // warm up
		}
		const round = 250 * time.Millisecond
		rounds := max(3, int(*ratioTime/(round*time.Duration(len(impls)))))
		rate := map[string][]float64{}
		allocs := map[string][]float64{}
		ratio := map[string][]float64{}
		cpu := map[string][]float64{}      // process CPU µs per call
		cpuRatio := map[string][]float64{} // raw's CPU per call / impl's
		for range rounds {
			order := rand.Perm(len(impls))
			got, gotCPU := map[string]float64{}, map[string]float64{}
			for _, i := range order {
				impl := impls[i]
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				cpu0 := cpuTime()
				n, d := closedLoopFor(t, c, round, calls[impl])
				cpuCall := (cpuTime() - cpu0).Seconds() * 1e6 / float64(n)
				runtime.ReadMemStats(&m1)
				got[impl] = float64(n) / d.Seconds()
				gotCPU[impl] = cpuCall
				rate[impl] = append(rate[impl], got[impl])
				cpu[impl] = append(cpu[impl], cpuCall)
				allocs[impl] = append(allocs[impl], float64(m1.Mallocs-m0.Mallocs)/float64(n))
			}
			for _, impl := range impls {
				ratio[impl] = append(ratio[impl], got[impl]/got["raw"])
				cpuRatio[impl] = append(cpuRatio[impl], gotCPU["raw"]/gotCPU[impl])
			}
		}
		for _, cleanup := range cleanups {
			cleanup()
		}
		t.Logf("c=%d: %d rounds of %v per implementation, medians; calls/s ratios are to impl=raw in the same round", c, rounds, round)
		for _, impl := range impls {
			t.Logf("c=%-3d impl=%-10s %7.0f calls/s (x%.2f raw, range %.2f-%.2f)  %5.1f µs CPU/call (raw/impl x%.2f, range %.2f-%.2f)  %5.1f allocs/call",
				c, impl, median(rate[impl]), median(ratio[impl]), slices.Min(ratio[impl]), slices.Max(ratio[impl]),
				median(cpu[impl]), median(cpuRatio[impl]), slices.Min(cpuRatio[impl]), slices.Max(cpuRatio[impl]), median(allocs[impl]))
		}
	}
}

// closedLoopFor runs calls on c goroutines for about d.
func closedLoopFor(tb testing.TB, c int, d time.Duration, call func() error) (int, time.Duration) {
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := call(); err != nil {
					tb.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	return int(n.Load()), time.Since(start)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
