package netem

import (
	"bytes"
	"io"
	"math"
	"net"
	"sync"
	"testing"
	"time"
)

// Jitter and modelled loss delay a TCP stream but never reorder or lose
// its bytes, and the stalls show in the stats.
func TestTCPStreamIntactUnderJitterAndLoss(t *testing.T) {
	r := relay(t, "tcp", tcpEcho(t), mustParse(t, "delay=2ms,jitter=2ms,loss=5%"))
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	msg := make([]byte, 256<<10)
	for i := range msg {
		msg[i] = byte(i * 7 / 3)
	}
	go func() {
		for i := 0; i < len(msg); i += 1000 { // many small writes: many chunks
			c.Write(msg[i:min(i+1000, len(msg))])
		}
	}()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the stream came back reordered or corrupted")
	}
	st := r.Stats()
	t.Logf("%d chunks, %d delayed by a modelled retransmission, scheduler late p99 %v max %v", st.Packets, st.Recovered, time.Duration(st.LateP99Ns), time.Duration(st.LateMaxNs))
	if st.Recovered == 0 {
		t.Error("5% loss, but no chunk paid a retransmission")
	}
}

// Reset drops live connections with a reset on the client's side.
func TestTCPReset(t *testing.T) {
	r := relay(t, "tcp", tcpEcho(t), Profile{Name: NameRelay}).(*TCPRelay)
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	_, err = c.Read(buf)
	if err == nil || err == io.EOF {
		t.Fatalf("read after Reset: %v, want a connection reset", err)
	}
	t.Logf("after Reset: %v", err)
}

// Duplication and reordering happen at their rates, seen at the receiver.
func TestUDPDuplicateAndReorder(t *testing.T) {
	const n = 2000
	var mu sync.Mutex
	var arrivals []uint32
	sink := udpServer(t, func(_ *net.UDPConn, b []byte, _ *net.UDPAddr) {
		mu.Lock()
		arrivals = append(arrivals, uint32(b[0])|uint32(b[1])<<8)
		mu.Unlock()
	})
	p := mustParse(t, "delay=1ms,duplicate=10%,reorder=10%")
	r := relay(t, "udp", sink, p)
	c, err := net.Dial("udp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range n {
		c.Write([]byte{byte(i), byte(i >> 8)})
		if i%50 == 49 {
			time.Sleep(200 * time.Microsecond) // spread them so reordering has something to overtake
		}
	}
	time.Sleep(50 * time.Millisecond)
	st := r.Stats()
	mu.Lock() // datagrams still in flight arrive after this snapshot and are not counted
	seen := append([]uint32(nil), arrivals...)
	mu.Unlock()
	total, dups, outOfOrder := 0, 0, 0
	got := map[uint32]bool{}
	var last uint32
	for _, s := range seen {
		total++
		if got[s] {
			dups++
		}
		if s < last {
			outOfOrder++
		}
		got[s], last = true, max(last, s)
	}
	t.Logf("%d sent, %d received, %d duplicates (relay %d), %d arrived behind a later one (relay reordered %d)", n, total, dups, st.Duplicated, outOfOrder, st.Reordered)
	if len(got) != n || int64(dups) != st.Duplicated {
		t.Errorf("received %d distinct with %d duplicates; relay duplicated %d", len(got), dups, st.Duplicated)
	}
	if d := float64(dups) / n; math.Abs(d-0.1) > 0.03 {
		t.Errorf("duplicated %.1f%%, want 10%%", 100*d)
	}
	if r := float64(st.Reordered) / n; math.Abs(r-0.1) > 0.03 || outOfOrder == 0 {
		t.Errorf("reordered %.1f%% with %d out of order at the receiver, want 10%%", 100*r, outOfOrder)
	}
}

// Gilbert–Elliott loss keeps the average and makes bursts of the given
// mean length.
func TestBurstyLoss(t *testing.T) {
	for _, burst := range []float64{1, 4} {
		p := newPath(Link{Loss: 0.02, LossBurst: burst}, 7)
		const n = 1_000_000
		lost, bursts, prev := 0, 0, false
		for range n {
			l := p.lost()
			if l {
				lost++
				if !prev {
					bursts++
				}
			}
			prev = l
		}
		rate, mean := float64(lost)/n, float64(lost)/float64(bursts)
		t.Logf("loss 2%%, burst %g: %.3f%% lost, mean burst %.2f", burst, 100*rate, mean)
		wantMean := burst
		if burst == 1 {
			wantMean = 1 / (1 - 0.02) // independent losses still touch now and then
		}
		if math.Abs(rate-0.02) > 0.002 || math.Abs(mean-wantMean) > 0.1*wantMean {
			t.Errorf("burst %g: loss %.3f%%, mean burst %.2f; want 2%% and %.2f", burst, 100*rate, mean, wantMean)
		}
	}
}
