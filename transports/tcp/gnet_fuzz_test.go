package tcp

import (
	"bytes"
	"errors"
	"testing"

	"rpcbench/wire"
	"rpcbench/wire/wiretest"
)

// gnetBuffer is an inbound buffer as gnet keeps one: bytes arrive at the
// end, OnTraffic peeks and discards from the front.
type gnetBuffer struct{ b []byte }

func (g *gnetBuffer) InboundBuffered() int { return len(g.b) }

func (g *gnetBuffer) Peek(n int) ([]byte, error) {
	if n > len(g.b) {
		return nil, errors.New("short buffer")
	}
	return g.b[:n], nil
}

func (g *gnetBuffer) Discard(n int) (int, error) {
	n = min(n, len(g.b))
	// Scribble over what is discarded, so that a payload used after its
	// frame was consumed shows.
	for i := range g.b[:n] {
		g.b[i] = 0xAA
	}
	g.b = g.b[n:]
	return n, nil
}

// FuzzNextFrame: the gnet engine's OnTraffic parsing (nextFrame, consumed
// as OnTraffic does) yields exactly the frames wire.Parse finds in the
// whole stream, however the bytes arrive, stops at a malformed header, and
// consumes only whole frames.
func FuzzNextFrame(f *testing.F) {
	wiretest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		const limit = wiretest.Limit
		want := wiretest.Read(stream, limit)
		var got [][]byte
		var buf gnetBuffer
		ok := true
		for rest := stream; len(rest) > 0 && ok; {
			k := min(len(rest), int(chunk)+1)
			buf.b = append(buf.b, rest[:k]...)
			rest = rest[k:]
			for ok {
				f, size, fine := nextFrame(&buf, limit)
				if ok = fine; !ok || size == 0 {
					break
				}
				if size != wire.HeaderLen+len(f.Payload) {
					t.Fatalf("frame of %d bytes reported as %d", wire.HeaderLen+len(f.Payload), size)
				}
				got = append(got, wire.Append(nil, &f))
				buf.Discard(size)
			}
		}
		// wire.Parse rejects a bad first byte before a header is whole;
		// nextFrame waits for the whole header.
		if !ok && want.Err == nil || ok && want.Err != nil && len(buf.b) >= wire.HeaderLen {
			t.Fatalf("malformed: %v (%d bytes left); wire.Parse says %v", !ok, len(buf.b), want.Err)
		}
		if len(got) != len(want.Frames) {
			t.Fatalf("%d frames, want %d", len(got), len(want.Frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], want.Frames[i]) {
				t.Fatalf("frame %d:\n%x\nwant\n%x", i, got[i], want.Frames[i])
			}
		}
		if ok && want.Err == nil && len(buf.b) != want.Rest {
			t.Fatalf("%d bytes left buffered, want %d", len(buf.b), want.Rest)
		}
	})
}
