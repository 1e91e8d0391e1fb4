package udp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
)

// executions counts how often the server ran each call, by the key at the
// start of its payload.
type executions struct {
	mu sync.Mutex
	n  map[uint64]int
}

func (e *executions) add(key uint64) {
	e.mu.Lock()
	e.n[key]++
	e.mu.Unlock()
}

func (e *executions) get(key uint64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[key]
}

// server starts a server on tr with Echo.Echo and Count.Echo, which counts
// executions and sometimes takes a while.
func server(t *testing.T, tr rpcbench.Transport, ex *executions) (addr string) {
	t.Helper()
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	must(t, srv.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }))
	must(t, srv.HandleRaw("Count.Echo", func(ctx context.Context, b []byte) ([]byte, error) {
		if len(b) < 8 {
			return nil, errors.New("short payload")
		}
		key := binary.BigEndian.Uint64(b)
		ex.add(key)
		if key%7 == 0 { // a slow one: retransmissions find it running
			select {
			case <-time.After(30 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return b, nil
	}))
	return transporttest.ServeOn(t, tr, "127.0.0.1:0", srv)
}

// leakCheck checks for leaked goroutines after every cleanup of t has run
// (cleanups run last-registered first).
func leakCheck(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLossyNetwork runs calls through a relay that loses, duplicates and
// reorders datagrams both ways. Every call must either succeed, having run
// exactly once on the server, or fail with a deadline error, having run at
// most once.
func TestLossyNetwork(t *testing.T) {
	leakCheck(t)
	links := []struct {
		name       string
		imp        impairment
		deadline   time.Duration
		minSuccess float64 // share of calls that must succeed
	}{
		// Most calls get through, retransmitted.
		{"loss10", impairment{Loss: 0.1, Dup: 0.05, Reorder: 0.1, MaxDelay: 5 * time.Millisecond}, 3 * time.Second, 0.9},
		// Many calls run out of time: they must fail cleanly, and still
		// have run at most once.
		{"loss40", impairment{Loss: 0.4, Dup: 0.1, Reorder: 0.2, MaxDelay: 10 * time.Millisecond}, 150 * time.Millisecond, 0},
	}
	for _, engine := range []string{"net", "gnet"} {
		for _, link := range links {
			t.Run(engine+"/"+link.name, func(t *testing.T) { testLossy(t, engine, link.imp, link.deadline, link.minSuccess) })
		}
	}
}

func testLossy(t *testing.T, engine string, imp impairment, deadline time.Duration, minSuccess float64) {
	tr, err := udp.New(udp.Options{Engine: engine, RetransmitInitial: 20 * time.Millisecond,
		RetransmitMin: 5 * time.Millisecond, RetransmitMax: 200 * time.Millisecond})
	must(t, err)
	ex := &executions{n: map[uint64]int{}}
	addr := server(t, tr, ex)
	relay := newLossyRelay(t, addr, impairment{}, 42)
	c := transporttest.Dial(t, tr, relay.Addr(), rpcbench.ClientOptions{})
	relay.setImpairment(imp) // after Dial, whose check would otherwise need luck

	const callers, perCaller = 32, 25
	sizes := []int{8, 64, 1000, 3000, 20000} // one datagram up to 18 fragments
	var ok, late atomic.Int64
	var succeeded sync.Map
	errs := make(chan error, callers*perCaller)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perCaller {
				key := uint64(g*perCaller + i + 1)
				in := make([]byte, sizes[int(key)%len(sizes)])
				binary.BigEndian.PutUint64(in, key)
				for j := 8; j < len(in); j++ {
					in[j] = byte(key) + byte(j)
				}
				var out []byte
				cctx, ccancel := context.WithTimeout(context.Background(), deadline)
				err := c.Call(cctx, "Count.Echo", in, &out)
				ccancel()
				switch {
				case err == nil:
					if !bytes.Equal(in, out) {
						errs <- fmt.Errorf("call %d: reply differs (%d bytes, want %d)", key, len(out), len(in))
					}
					ok.Add(1)
					succeeded.Store(key, true)
				case errors.Is(err, rpcbench.ErrDeadlineExceeded):
					late.Add(1)
				default:
					errs <- fmt.Errorf("call %d: %v (want success or deadline exceeded)", key, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	time.Sleep(50 * time.Millisecond) // let late duplicates reach the server
	for key := uint64(1); key <= callers*perCaller; key++ {
		n := ex.get(key)
		if _, good := succeeded.Load(key); good && n != 1 || n > 1 {
			t.Errorf("call %d (succeeded: %v) ran %d times on the server", key, good, n)
		}
	}
	total := int64(callers * perCaller)
	t.Logf("%d calls: %d succeeded, %d deadline exceeded; relay forwarded %d, dropped %d, duplicated %d, delayed %d datagrams",
		total, ok.Load(), late.Load(), relay.Forwarded.Load(), relay.Dropped.Load(), relay.Duplicated.Load(), relay.Delayed.Load())
	if float64(ok.Load()) < minSuccess*float64(total) {
		t.Errorf("only %d of %d calls succeeded", ok.Load(), total)
	}
	c.Close()
	relay.Close()
}

// TestLossyLargeMessages moves fragmented messages both ways through a
// lossy link: missing fragments are reported and resent until whole.
func TestLossyLargeMessages(t *testing.T) {
	leakCheck(t)
	tr := newTransport(t, udp.Options{SocketBuffer: 64 << 10})
	ex := &executions{n: map[uint64]int{}}
	addr := server(t, tr, ex)
	relay := newLossyRelay(t, addr, impairment{}, 7)
	c := transporttest.Dial(t, tr, relay.Addr(), rpcbench.ClientOptions{})
	relay.setImpairment(impairment{Loss: 0.05, Dup: 0.02, Reorder: 0.1, MaxDelay: 2 * time.Millisecond})
	before := udp.ReadStats()
	for i, n := range []int{100 << 10, 300 << 10, 1 << 20} {
		in := make([]byte, n)
		binary.BigEndian.PutUint64(in, uint64(i+1))
		for j := 8; j < n; j++ {
			in[j] = byte(j * 31)
		}
		var out []byte
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		err := c.Call(ctx, "Count.Echo", in, &out)
		cancel()
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("%d bytes: reply differs", n)
		}
		if k := ex.get(uint64(i + 1)); k != 1 {
			t.Fatalf("%d bytes: ran %d times", n, k)
		}
		t.Logf("%d bytes in %v", n, time.Since(start).Round(time.Millisecond))
	}
	s := udp.ReadStats()
	t.Logf("retransmissions %d, fragment reports %d; relay dropped %d, duplicated %d, delayed %d",
		s.Retransmits-before.Retransmits, s.FragmentReports-before.FragmentReports,
		relay.Dropped.Load(), relay.Duplicated.Load(), relay.Delayed.Load())
	c.Close()
	relay.Close()
}
