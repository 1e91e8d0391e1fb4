package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
)

// The 64-byte echo through the whole core over UDP, beside raw UDP
// ping-pong (one socket per caller) in the same run:
//
//	go test ./transports/udp -run '^$' -bench Echo64 -benchmem -count 5

var payload64 = make([]byte, 64)

func startEcho(tb testing.TB, engine string) (*rpcbench.Client, func()) {
	return startEchoOpts(tb, udp.Options{Engine: engine})
}

func startEchoOpts(tb testing.TB, o udp.Options) (*rpcbench.Client, func()) {
	tr, err := udp.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return transporttest.StartEcho(tb, tr)
}

// runConcurrent runs b.N calls from conc goroutines and reports calls/s.
func runConcurrent(b *testing.B, conc int, call func(i int, out *[]byte) error) {
	b.ReportAllocs()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []byte
			for left.Add(-1) >= 0 {
				if err := call(i, &out); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkEcho64(b *testing.B) {
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprintf("stack=raw-udp/conc=%d", conc), func(b *testing.B) {
			socks, stop := startRawEcho(b, conc)
			defer stop()
			runConcurrent(b, conc, func(i int, out *[]byte) error { return socks[i].pingPong(payload64, out) })
		})
		for _, engine := range udp.Engines {
			b.Run(fmt.Sprintf("stack=rpcbench-udp-%s/conc=%d", engine, conc), func(b *testing.B) {
				c, stop := startEcho(b, engine)
				defer stop()
				ctx := context.Background()
				before := udp.ReadStats()
				runConcurrent(b, conc, func(_ int, out *[]byte) error { return c.Call(ctx, "Echo.Echo", &payload64, out) })
				after := udp.ReadStats()
				b.ReportMetric(float64(after.Retransmits-before.Retransmits)/float64(b.N), "retransmits/op")
				if testing.Verbose() {
					b.Logf("%d calls: %d retransmissions, %d duplicate requests at the server, %d stale replies at the client",
						b.N, after.Retransmits-before.Retransmits, after.DuplicateRequests-before.DuplicateRequests, after.StaleReplies-before.StaleReplies)
				}
			})
		}
	}
}

// cpuTime is the CPU time the process has used, user and system: per
// call it is steadier than throughput on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawEcho is the reference: a plain net.UDPConn echo server read by one
// goroutine per CPU, and one connected socket per caller doing
// write-then-read with a timeout (a lost datagram is resent).
type rawSock struct {
	uc  *net.UDPConn
	buf []byte
}

func (s *rawSock) pingPong(p []byte, out *[]byte) error {
	for tries := 0; tries < 50; tries++ {
		if _, err := s.uc.Write(p); err != nil {
			return err
		}
		s.uc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := s.uc.Read(s.buf)
		if err == nil {
			*out = append((*out)[:0], s.buf[:n]...)
			return nil
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return err
		}
	}
	return errors.New("raw udp: no echo after 50 tries")
}

func startRawEcho(tb testing.TB, conc int) ([]*rawSock, func()) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	srv.SetReadBuffer(4 << 20)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for {
				n, from, err := srv.ReadFromUDPAddrPort(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				srv.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
	}
	socks := make([]*rawSock, conc)
	for i := range socks {
		uc, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
		if err != nil {
			tb.Fatal(err)
		}
		socks[i] = &rawSock{uc: uc, buf: make([]byte, 2048)}
	}
	return socks, func() {
		for _, s := range socks {
			s.uc.Close()
		}
		srv.Close()
		wg.Wait()
	}
}
