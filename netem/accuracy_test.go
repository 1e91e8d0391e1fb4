package netem

import (
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// timingAlone skips a test of the emulator's timing unless it runs alone:
// beside other packages' tests on two cores, the relay's wake-ups come
// milliseconds late for reasons that are not the relay's. make test runs
// these after everything else, with RPCBENCH_NETEM_TIMING=1.
func timingAlone(t *testing.T) {
	if os.Getenv("RPCBENCH_NETEM_TIMING") == "" {
		t.Skip("timing accuracy is measured alone: RPCBENCH_NETEM_TIMING=1 (make test runs it after the other packages)")
	}
}

// The accuracy demands: a 10 ms one-way delay gives a round trip
// within 10% of 20 ms plus the direct round trip.
func TestDelayRoundTrip(t *testing.T) {
	timingAlone(t)
	p := mustParse(t, "delay=10ms")
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			target := tcpEcho(t)
			if network == "udp" {
				target = udpEcho(t)
			}
			direct := medianRTT(t, network, target, 30)
			via := medianRTT(t, network, relay(t, network, target, p).Addr(), 30)
			want := 20*time.Millisecond + direct
			t.Logf("direct RTT %v, through a 10 ms one-way relay %v (want %v ± 10%%)", direct, via, want)
			if d := via - want; d < -want/10 || d > want/10 {
				t.Errorf("RTT %v, want %v ± 10%%", via, want)
			}
		})
	}
}

// A 1% loss setting drops 1% ± 0.3% of 100,000 datagrams, counted at the
// receiver.
func TestLossRate(t *testing.T) {
	const n, window = 100_000, 100
	var got atomic.Int64
	sink := udpServer(t, func(*net.UDPConn, []byte, *net.UDPAddr) { got.Add(1) })
	p := mustParse(t, "loss=1%")
	p.Down = Link{}
	r := relay(t, "udp", sink, p)
	c, err := net.Dial("udp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 32)
	// Send in windows and wait for each to be received or dropped by the
	// model, so the kernel's buffers never drop any.
	for sent := 0; sent < n; {
		for range window {
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		deadline := time.Now().Add(2 * time.Second)
		for got.Load()+r.Stats().Dropped < int64(sent) {
			if time.Now().After(deadline) {
				t.Fatalf("after %d sent: %d received, %d dropped by the model: the rest vanished", sent, got.Load(), r.Stats().Dropped)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	lost := n - got.Load()
	rate := float64(lost) / n
	t.Logf("1%% loss: %d of %d datagrams lost (%.3f%%); relay counted %d", lost, n, 100*rate, r.Stats().Dropped)
	if math.Abs(rate-0.01) > 0.003 {
		t.Errorf("loss %.3f%%, want 1%% ± 0.3%%", 100*rate)
	}
	if lost != r.Stats().Dropped {
		t.Errorf("receiver missed %d datagrams but the model dropped %d", lost, r.Stats().Dropped)
	}
}

// A bandwidth cap yields a throughput within 10% of it.
func TestRateCap(t *testing.T) {
	timingAlone(t)
	const rate = 20e6 // bits/s
	p := mustParse(t, "rate=20Mbit")
	t.Run("tcp", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		r := relay(t, "tcp", ln.Addr().String(), p)
		const total = 4 << 20 // ~1.7 s at 20 Mbit/s
		go func() {
			c, err := net.Dial("tcp", r.Addr())
			if err != nil {
				return
			}
			defer c.Close()
			c.Write(make([]byte, total))
		}()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		buf := make([]byte, 64<<10)
		first, err := io.ReadAtLeast(sc, buf, 1)
		if err != nil {
			t.Fatal(err)
		}
		start, rest := time.Now(), 0
		for rest < total-first {
			n, err := sc.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			rest += n
		}
		got := float64(rest) * 8 / time.Since(start).Seconds()
		t.Logf("TCP through a 20 Mbit/s cap: %.2f Mbit/s", got/1e6)
		if math.Abs(got-rate) > rate/10 {
			t.Errorf("throughput %.2f Mbit/s, want 20 ± 2", got/1e6)
		}
	})
	t.Run("udp", func(t *testing.T) {
		var bytes atomic.Int64
		var first, last atomic.Int64
		sink := udpServer(t, func(_ *net.UDPConn, b []byte, _ *net.UDPAddr) {
			now := time.Now().UnixNano()
			if first.Load() == 0 {
				first.Store(now)
			} else {
				bytes.Add(int64(len(b)))
			}
			last.Store(now)
		})
		r := relay(t, "udp", sink, p)
		c, err := net.Dial("udp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Offer twice the cap for 1.5 s: the queue fills and drops the
		// excess, as a bottleneck does.
		msg := make([]byte, 1200)
		start := time.Now()
		for sent := 0; time.Since(start) < 1500*time.Millisecond; {
			for float64(sent*8*len(msg)) < 2*rate*time.Since(start).Seconds() {
				c.Write(msg)
				sent++
			}
			time.Sleep(200 * time.Microsecond)
		}
		time.Sleep(DefaultQueue + 20*time.Millisecond) // let the queue drain
		got := float64(bytes.Load()) * 8 / (time.Duration(last.Load() - first.Load())).Seconds()
		st := r.Stats()
		t.Logf("UDP offered 40 Mbit/s through a 20 Mbit/s cap: %.2f Mbit/s delivered, %d queue drops", got/1e6, st.QueueDrops)
		if math.Abs(got-rate) > rate/10 {
			t.Errorf("throughput %.2f Mbit/s, want 20 ± 2", got/1e6)
		}
		if st.QueueDrops == 0 {
			t.Error("twice the cap offered, but the queue never dropped")
		}
	})
}
