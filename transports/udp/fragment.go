package udp

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"time"

	"rpcbench/wire"
)

// fragHeader is the 8-byte header at the start of a fragment's payload.
type fragHeader struct {
	total        int
	index, count int
}

var errBadFragment = errors.New("udp: malformed fragment")

func parseFragment(f *wire.Frame) (fragHeader, []byte, error) {
	p := f.Payload
	if len(p) < fragHeaderLen {
		return fragHeader{}, nil, errBadFragment
	}
	h := fragHeader{
		total: int(binary.BigEndian.Uint32(p)),
		index: int(binary.BigEndian.Uint16(p[4:])),
		count: int(binary.BigEndian.Uint16(p[6:])),
	}
	last := f.Flags&wire.FlagLastFragment != 0
	if h.count < 2 || h.index >= h.count || last != (h.index == h.count-1) || len(p) == fragHeaderLen {
		return fragHeader{}, nil, errBadFragment
	}
	return h, p[fragHeaderLen:], nil
}

// appendFragment appends datagram index of the message msg, cut into chunks
// of chunk bytes, with hdr's header fields.
func appendFragment(dst []byte, hdr *wire.Frame, msg []byte, index, count, chunk int) []byte {
	start := index * chunk
	end := min(start+chunk, len(msg))
	f := *hdr
	f.Flags = wire.FlagFragment
	if index == count-1 {
		f.Flags |= wire.FlagLastFragment
	}
	dst = wire.AppendHeader(dst, &f, fragHeaderLen+end-start)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(index))
	dst = binary.BigEndian.AppendUint16(dst, uint16(count))
	return append(dst, msg[start:end]...)
}

// reassembly collects one message's fragments. It is owned by whoever holds
// the lock of the table it lives in.
type reassembly struct {
	hdr      wire.Frame // kind, codec, ... of the first fragment seen
	buf      []byte     // total bytes
	have     []uint64   // bitmap of fragments received
	count    int
	chunk    int // 0 until known
	missing  int // fragments not yet received
	progress int64

	fresh      int   // fragments received since the last report
	reportedAt int64 // unix ns
}

// minReportGap: a last fragment that brings nothing new gets a report only
// if the previous report is at least this old. A sender's probe comes after
// its retransmission timeout (longer than this); a duplicated last fragment
// or an outdated burst comes sooner, and must not double the bursts.
const minReportGap = int64(5 * time.Millisecond)

// reportDue reports whether the arrival of a last fragment at now should be
// answered with a report of missing fragments, and if so records one.
func (r *reassembly) reportDue(now int64) bool {
	if r.fresh == 0 && now-r.reportedAt < minReportGap {
		return false
	}
	r.fresh, r.reportedAt = 0, now
	return true
}

func newReassembly(f *wire.Frame, h fragHeader) *reassembly {
	r := &reassembly{hdr: *f, buf: make([]byte, h.total), have: make([]uint64, (h.count+63)/64), count: h.count, missing: h.count}
	r.hdr.Payload, r.hdr.Flags = nil, 0
	return r
}

// admissible checks a first fragment against the limits before anything is
// allocated for it.
func admissible(h fragHeader, maxMessage, chunk int) bool {
	return h.total <= maxMessage && h.count <= fragmentCount(maxMessage, chunk) && h.total >= h.count
}

// add places one fragment. It reports whether the fragment was new, and an
// error if it contradicts the fragments seen before.
func (r *reassembly) add(f *wire.Frame, h fragHeader, data []byte) (bool, error) {
	if h.total != len(r.buf) || h.count != r.count || f.Kind != r.hdr.Kind || f.Codec != r.hdr.Codec ||
		f.Compression != r.hdr.Compression || f.CallID != r.hdr.CallID {
		return false, errBadFragment
	}
	var off int
	if h.index < h.count-1 {
		if r.chunk == 0 {
			if len(data)*(h.count-1) >= h.total || len(data)*h.count < h.total {
				return false, errBadFragment
			}
			r.chunk = len(data)
		}
		if len(data) != r.chunk {
			return false, errBadFragment
		}
		off = h.index * r.chunk
	} else {
		off = h.total - len(data)
		if off <= 0 || off%(h.count-1) != 0 {
			return false, errBadFragment
		}
		c := off / (h.count - 1)
		if len(data) > c || r.chunk != 0 && c != r.chunk {
			return false, errBadFragment
		}
		r.chunk = c
	}
	w, b := h.index/64, uint64(1)<<(h.index%64)
	if r.have[w]&b != 0 {
		return false, nil
	}
	r.have[w] |= b
	r.missing--
	r.fresh++
	copy(r.buf[off:], data)
	return true, nil
}

func (r *reassembly) complete() bool { return r.missing == 0 }

// appendMissing appends up to maxRanges ranges of missing fragments.
func (r *reassembly) appendMissing(dst []byte, maxRanges int) []byte {
	ranges := 0
	for i := 0; i < r.count && ranges < maxRanges; {
		w := r.have[i/64] >> (i % 64)
		if w&1 != 0 {
			// skip the run of fragments present
			n := bits.TrailingZeros64(^w)
			i += min(n, 64-i%64)
			continue
		}
		start := i
		for i < r.count && r.have[i/64]&(1<<(i%64)) == 0 {
			i++
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(start))
		dst = binary.BigEndian.AppendUint16(dst, uint16(i-start))
		ranges++
	}
	return dst
}

// forRanges calls fn for each fragment index named in a missing-fragments
// report, ignoring indices at or past count.
func forRanges(p []byte, count int, fn func(index int)) {
	for len(p) >= 4 && count > 0 {
		start := int(binary.BigEndian.Uint16(p))
		n := int(binary.BigEndian.Uint16(p[2:]))
		p = p[4:]
		for i := start; i < start+n && i < count; i++ {
			fn(i)
		}
	}
}

// sendFragments writes a fragmented message through write: the first
// window fragments and then the last (all), or up to window of the
// fragments a report names and then the last. Ending every burst with the
// last fragment makes the receiver report what it still misses, so a
// message moves a window per round trip. It returns the highest index sent
// before the last, which tells the next report's losses from fragments
// not sent yet.
func (o *Options) sendFragments(hdr *wire.Frame, msg []byte, count int, nack []byte, all bool, window int, write func([]byte) error) (int, error) {
	chunk := o.chunk()
	b := getDatagram()
	defer putDatagram(b)
	var first error
	sent, last := 0, -1
	one := func(i int) {
		if sent >= window || first != nil {
			return
		}
		sent++
		last = max(last, i)
		*b = appendFragment((*b)[:0], hdr, msg, i, count, chunk)
		if err := write(*b); err != nil {
			first = err
		}
	}
	if all {
		for i := 0; i < count-1 && sent < window && first == nil; i++ {
			one(i)
		}
	} else {
		forRanges(nack, count-1, one) // the last goes at the end in any case
	}
	highest := last
	sent = 0
	one(count - 1)
	return highest, first
}

// burstWindow sizes the bursts of fragments sent to one peer, so that they
// fit the peer's socket buffer: a burst that overflows it loses its end,
// last fragment included, and the transfer stalls until a retransmission
// timeout. Like TCP's congestion window it doubles per lossless round up to
// a threshold, then grows by an eighth; a round with loss, or a stall,
// halves it and sets the threshold there. Its owner's lock guards it.
type burstWindow struct{ n, threshold int }

const initialWindow = 32

func (w *burstWindow) size(limit int) int {
	if w.n == 0 {
		w.n = initialWindow
	}
	w.n = min(w.n, limit)
	return w.n
}

// report adjusts the window to a report of missing fragments that follows
// a burst whose highest fragment before the last was burstMax.
func (w *burstWindow) report(nack []byte, burstMax, limit int) {
	if len(nack) >= 2 && int(binary.BigEndian.Uint16(nack)) <= burstMax {
		w.stall()
		return
	}
	if w.threshold == 0 || w.n < w.threshold {
		w.n = min(2*max(w.n, 1), limit)
	} else {
		w.n = min(w.n+max(w.n/8, 1), limit)
	}
}

func (w *burstWindow) stall() {
	w.n = max(w.n/2, 2)
	w.threshold = w.n
}
