// Package wiretest holds what the fuzz tests of every stream parser share:
// seed streams, and the reference reading of a stream that each parser
// must agree with, however the bytes arrive.
package wiretest

import (
	"testing"

	"rpcbench/wire"
)

// Limit is the payload limit the stream fuzz targets parse with.
const Limit = 1 << 12

// AddSeeds adds every seed stream to f, each to be split into chunks of
// one byte and of seven: a fuzz target's arguments are (stream []byte,
// chunk uint8), the chunk size less one.
func AddSeeds(f *testing.F) {
	for _, s := range Seeds() {
		f.Add(s, uint8(0))
		f.Add(s, uint8(6))
	}
}

// Stream is what wire.Parse, applied again and again, makes of a byte
// stream: its whole frames, each re-encoded, then either an error or the
// bytes of an incomplete frame left over.
type Stream struct {
	Frames [][]byte
	Err    error
	Rest   int
}

// Read parses b as a stream with payloads capped at limit.
func Read(b []byte, limit int) Stream {
	var s Stream
	for {
		f, n, err := wire.Parse(b, limit)
		if err != nil {
			s.Err = err
			return s
		}
		if n == 0 {
			s.Rest = len(b)
			return s
		}
		s.Frames = append(s.Frames, wire.Append(nil, &f))
		b = b[n:]
	}
}

// Seeds are streams to start fuzzing from: single frames of every kind,
// several frames back to back, a truncated frame, and an oversize length.
func Seeds() [][]byte {
	req := wire.Append(nil, &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: 0xdeadbeef, RequestID: 7, BudgetMicros: 1000, Payload: []byte("hello")})
	resp := wire.Append(nil, &wire.Frame{Kind: wire.KindResponse, Codec: 2, RequestID: 7, Payload: make([]byte, 300)})
	errf := wire.Append(nil, &wire.Frame{Kind: wire.KindError, RequestID: 9, Payload: wire.AppendError(nil, 5, "boom")})
	ping := wire.Append(nil, &wire.Frame{Kind: wire.KindPing, RequestID: 1})
	frag := wire.Append(nil, &wire.Frame{Kind: wire.KindRequest, Flags: wire.FlagFragment, RequestID: 3, Payload: []byte("part")})
	big := wire.AppendHeader(nil, &wire.Frame{Kind: wire.KindRequest, RequestID: 4}, 1<<30)
	var all []byte
	for _, b := range [][]byte{req, resp, errf, ping, frag} {
		all = append(all, b...)
	}
	return [][]byte{req, resp, errf, ping, frag, all, all[:len(all)-3], big, append(append([]byte(nil), req...), 0x00, 0x01)}
}
