package udp

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"rpcbench/wire"
)

// fragments cuts msg into datagrams as a sender does and parses them back.
func fragments(t testing.TB, msg []byte, chunk int) []wire.Frame {
	hdr := wire.Frame{Kind: wire.KindResponse, Codec: 3, CallID: 7, RequestID: 99}
	count := fragmentCount(len(msg), chunk)
	var out []wire.Frame
	for i := range count {
		b := appendFragment(nil, &hdr, msg, i, count, chunk)
		f, err := wire.ParseDatagram(b, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestReassemblyAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1161, 2320, 2321, 5000, 1 << 20} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		frs := fragments(t, msg, 1160)
		order := rng.Perm(len(frs))
		order = append(order, rng.Perm(len(frs))[:len(frs)/2]...) // duplicates
		var r *reassembly
		for k, i := range order {
			f := &frs[i]
			h, data, err := parseFragment(f)
			if err != nil {
				t.Fatal(err)
			}
			if r == nil {
				if !admissible(h, 1<<20, 1160) {
					t.Fatalf("%d bytes: first fragment not admissible", n)
				}
				r = newReassembly(f, h)
			}
			isNew, err := r.add(f, h, data)
			if err != nil {
				t.Fatalf("%d bytes, fragment %d: %v", n, i, err)
			}
			if isNew != (k < len(frs)) {
				t.Fatalf("fragment %d (step %d): new=%v", i, k, isNew)
			}
			if r.complete() != (k >= len(frs)-1) {
				t.Fatalf("step %d of %d: complete=%v", k, len(frs), r.complete())
			}
		}
		if !bytes.Equal(r.buf, msg) {
			t.Fatalf("%d bytes: reassembled message differs", n)
		}
		if r.hdr.Kind != wire.KindResponse || r.hdr.Codec != 3 || r.hdr.CallID != 7 || r.hdr.Flags != 0 {
			t.Fatalf("header %+v", r.hdr)
		}
	}
}

func TestMissingRanges(t *testing.T) {
	msg := make([]byte, 10*100)
	frs := fragments(t, msg, 100)
	h, data, _ := parseFragment(&frs[0])
	r := newReassembly(&frs[0], h)
	r.add(&frs[0], h, data)
	for _, i := range []int{3, 4, 9} {
		h, data, _ := parseFragment(&frs[i])
		if _, err := r.add(&frs[i], h, data); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	forRanges(r.appendMissing(nil, 300), r.count, func(i int) { got = append(got, i) })
	want := []int{1, 2, 5, 6, 7, 8}
	if len(got) != len(want) {
		t.Fatalf("missing %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("missing %v, want %v", got, want)
		}
	}
}

func TestBadFragments(t *testing.T) {
	msg := make([]byte, 3000)
	frs := fragments(t, msg, 1160)
	mutate := func(i int, fn func(p []byte, f *wire.Frame)) wire.Frame {
		f := frs[i]
		f.Payload = append([]byte(nil), f.Payload...)
		fn(f.Payload, &f)
		return f
	}
	cases := map[string]wire.Frame{
		"count 1":           mutate(0, func(p []byte, _ *wire.Frame) { binary.BigEndian.PutUint16(p[6:], 1) }),
		"index past count":  mutate(0, func(p []byte, _ *wire.Frame) { binary.BigEndian.PutUint16(p[4:], 5) }),
		"last flag missing": mutate(2, func(_ []byte, f *wire.Frame) { f.Flags = wire.FlagFragment }),
		"last flag early":   mutate(0, func(_ []byte, f *wire.Frame) { f.Flags |= wire.FlagLastFragment }),
		"short":             {Kind: wire.KindResponse, Flags: wire.FlagFragment, Payload: []byte{0, 0, 1}},
	}
	for name, f := range cases {
		if _, _, err := parseFragment(&f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Contradicting fragments of one message.
	h0, d0, _ := parseFragment(&frs[0])
	r := newReassembly(&frs[0], h0)
	if _, err := r.add(&frs[0], h0, d0); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]wire.Frame{
		"other total":     mutate(1, func(p []byte, _ *wire.Frame) { binary.BigEndian.PutUint32(p, 3001) }),
		"other call":      mutate(1, func(_ []byte, f *wire.Frame) { f.CallID = 8 }),
		"other chunk":     mutate(1, func(_ []byte, f *wire.Frame) { f.Payload = f.Payload[:len(f.Payload)-1] }),
		"last too long":   mutate(2, func(_ []byte, f *wire.Frame) { f.Payload = append(f.Payload, 1) }),
		"last misaligned": mutate(2, func(_ []byte, f *wire.Frame) { f.Payload = f.Payload[:len(f.Payload)-1] }),
	} {
		h, d, err := parseFragment(&f)
		if err != nil {
			continue // refused already
		}
		if _, err := r.add(&f, h, d); err == nil {
			t.Errorf("%s: accepted into a message", name)
		}
	}
	// Limits before allocation.
	for name, h := range map[string]fragHeader{
		"over max":       {total: 1<<20 + 1, count: 905},
		"too many":       {total: 1 << 20, count: 60000},
		"more than size": {total: 10, count: 11},
	} {
		if admissible(h, 1<<20, 1160) {
			t.Errorf("%s: admissible", name)
		}
	}
}

// FuzzReassembly feeds arbitrary fragments to one reassembly: no panic, and
// never more bytes than admitted.
func FuzzReassembly(f *testing.F) {
	msg := make([]byte, 2500)
	for _, fr := range fragments(f, msg, 1000) {
		f.Add(wire.Append(nil, &fr))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.ParseDatagram(b, 1<<16)
		if err != nil {
			return
		}
		h, data, err := parseFragment(&fr)
		if err != nil || !admissible(h, 1<<16, 1000) {
			return
		}
		r := newReassembly(&fr, h)
		for range 2 {
			if _, err := r.add(&fr, h, data); err != nil {
				return
			}
		}
		r.appendMissing(nil, 300)
		if len(r.buf) != h.total {
			t.Fatalf("buffer %d, total %d", len(r.buf), h.total)
		}
	})
}
