package netem

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats count what a relay did, both directions together.
type Stats struct {
	// Packets and Bytes delivered (datagrams, or chunks of a TCP stream).
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
	// Dropped: datagrams lost by the loss model; QueueDrops: datagrams
	// dropped because the bottleneck's queue was full.
	Dropped    int64 `json:"dropped,omitempty"`
	QueueDrops int64 `json:"queue_drops,omitempty"`
	Duplicated int64 `json:"duplicated,omitempty"`
	Reordered  int64 `json:"reordered,omitempty"`
	// Recovered: TCP chunks delayed by a modelled retransmission.
	Recovered int64 `json:"tcp_recovered,omitempty"`
	// Delayed: packets that waited in a scheduler rather than passing
	// straight through.
	Delayed int64 `json:"delayed"`
	// LateP99Ns and LateMaxNs: how late the schedulers delivered delayed
	// packets after their due time — the emulator's own timing error.
	LateP99Ns int64 `json:"late_p99_ns"`
	LateMaxNs int64 `json:"late_max_ns"`
}

type counters struct {
	packets, bytes, dropped, queueDrops, duplicated, reordered, recovered atomic.Int64
}

func (c *counters) delivered(n int) {
	c.packets.Add(1)
	c.bytes.Add(int64(n))
}

func (c *counters) stats(lates ...*lateness) Stats {
	s := Stats{Packets: c.packets.Load(), Bytes: c.bytes.Load(), Dropped: c.dropped.Load(), QueueDrops: c.queueDrops.Load(),
		Duplicated: c.duplicated.Load(), Reordered: c.reordered.Load(), Recovered: c.recovered.Load()}
	var all lateness
	for _, l := range lates {
		all.merge(l)
	}
	s.Delayed, s.LateP99Ns, s.LateMaxNs = all.summary()
	return s
}

// lateness is a coarse histogram of scheduler lateness: buckets of
// doubling width from 1µs.
type lateness struct {
	mu      sync.Mutex
	buckets [32]int64
	n       int64
	max     time.Duration
}

func (l *lateness) record(d time.Duration) {
	d = max(d, 0)
	i := 0
	for v := d / time.Microsecond; v > 0 && i < len(l.buckets)-1; v >>= 1 {
		i++
	}
	l.mu.Lock()
	l.buckets[i]++
	l.n++
	l.max = max(l.max, d)
	l.mu.Unlock()
}

func (l *lateness) merge(o *lateness) {
	o.mu.Lock()
	b, n, m := o.buckets, o.n, o.max
	o.mu.Unlock()
	l.mu.Lock()
	for i := range b {
		l.buckets[i] += b[i]
	}
	l.n += n
	l.max = max(l.max, m)
	l.mu.Unlock()
}

// summary returns the count, the p99 (upper bucket bound) and the max.
func (l *lateness) summary() (n, p99, maxNs int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return 0, 0, 0
	}
	want, seen := (l.n*99+99)/100, int64(0)
	for i, c := range l.buckets {
		seen += c
		if seen >= want {
			p99 = int64(time.Microsecond) << i
			break
		}
	}
	return l.n, min(p99, int64(l.max)), int64(l.max)
}
