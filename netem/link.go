package netem

import (
	"math/rand/v2"
	"sync"
	"time"
)

// bottleneck is a link's transmitter: packets are serialized one after
// another at the link's rate behind a queue of bounded length. Flows of one
// relay direction share it, as connections share a real bottleneck. Safe
// for concurrent use.
type bottleneck struct {
	rate  float64       // bits per second; 0: unlimited
	queue time.Duration // the most waiting time the queue holds
	mu    sync.Mutex
	free  time.Time // when the transmitter finishes what it has accepted
}

func newBottleneck(l Link) *bottleneck { return &bottleneck{rate: l.Rate, queue: l.Queue} }

// wait is how long a packet of size bytes arriving at now must wait
// before the queue has room for it (0: room now).
func (b *bottleneck) wait(now time.Time, size int) time.Duration {
	if b.rate == 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	backlog := max(b.free.Sub(now), 0) // free starts at the zero time
	return max(0, backlog+b.serialize(size)-b.queue)
}

// send queues a packet and returns when its last bit leaves the link.
// The caller has checked wait.
func (b *bottleneck) send(now time.Time, size int) time.Time {
	if b.rate == 0 {
		return now
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	start := now
	if b.free.After(now) {
		start = b.free
	}
	b.free = start.Add(b.serialize(size))
	return b.free
}

func (b *bottleneck) serialize(size int) time.Duration {
	return time.Duration(float64(size) * 8 / b.rate * 1e9)
}

// path is one flow's propagation through a direction: delay, jitter,
// loss, duplication and reordering. Used by one goroutine.
type path struct {
	l    Link
	rng  *rand.Rand
	bad  bool      // Gilbert–Elliott state
	last time.Time // latest delivery so far: jitter never reorders
	// Gilbert–Elliott transition probabilities (good→bad, bad→good),
	// chosen so that the stationary loss is l.Loss with mean burst
	// length l.LossBurst; all loss happens in the bad state.
	toBad, toGood float64
}

func newPath(l Link, seed uint64) *path {
	p := &path{l: l, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if l.LossBurst > 1 && l.Loss > 0 && l.Loss < 1 {
		p.toGood = 1 / l.LossBurst
		p.toBad = l.Loss * p.toGood / (1 - l.Loss)
	}
	return p
}

// lost draws whether the next packet is lost.
func (p *path) lost() bool {
	if p.l.Loss == 0 {
		return false
	}
	if p.toGood == 0 {
		return p.rng.Float64() < p.l.Loss
	}
	if p.bad {
		p.bad = p.rng.Float64() >= p.toGood
	} else {
		p.bad = p.rng.Float64() < p.toBad
	}
	return p.bad
}

// delay draws one packet's propagation delay.
func (p *path) delay() time.Duration {
	d := p.l.Delay
	if p.l.Jitter > 0 {
		d += time.Duration(p.rng.NormFloat64() * float64(p.l.Jitter))
	}
	return max(d, 0)
}

// inOrder returns when a packet leaving the bottleneck at sent arrives,
// never before the packet ahead of it.
func (p *path) inOrder(sent time.Time, extra time.Duration) time.Time {
	at := sent.Add(p.delay() + extra)
	if at.Before(p.last) {
		at = p.last
	}
	p.last = at
	return at
}

// datagram decides a datagram's fate: its arrival times, none if lost,
// two if duplicated.
func (p *path) datagram(sent time.Time, out []time.Time) []time.Time {
	if p.lost() {
		return out
	}
	if p.l.Reorder > 0 && p.rng.Float64() < p.l.Reorder {
		// Skip the delay, as netem does: it overtakes the packets ahead.
		out = append(out, sent)
	} else {
		out = append(out, p.inOrder(sent, 0))
	}
	if p.l.Duplicate > 0 && p.rng.Float64() < p.l.Duplicate {
		out = append(out, out[len(out)-1])
	}
	return out
}

// segmentSize is the TCP payload per packet on a 1500-byte MTU path.
const segmentSize = 1448

// chunk decides when a chunk of a TCP stream arrives. A byte stream
// cannot lose bytes, so a lost segment (each of the chunk's segments is
// lost with the link's probability) costs what real TCP pays for it: the
// chunk, and everything behind it, arrives l.Recovery late.
func (p *path) chunk(sent time.Time, size int) (time.Time, bool) {
	lost := false
	for n := 0; n < size; n += segmentSize {
		if p.lost() {
			lost = true
		}
	}
	var extra time.Duration
	if lost {
		extra = p.l.Recovery
	}
	return p.inOrder(sent, extra), lost
}

// seedFor derives a flow's seed from a relay's seed and the flow's index,
// so that runs with one seed decide the same fates.
func seedFor(seed uint64, flow uint64) uint64 {
	z := seed + flow*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
