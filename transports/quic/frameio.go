package quic

import (
	"errors"
	"fmt"
	"io"

	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

// errNoFrame: a call stream ended before any byte of a frame.
var errNoFrame = errors.New("quic: stream ended without a frame")

// readFrame reads the one frame a call stream carries, and the stream's end,
// into *buf; the frame's payload aliases *buf. The header is checked (and an
// oversize length refused) as soon as it is in, before the buffer grows for
// the payload; bytes after the frame are an error. Reading to io.EOF is what
// lets QUIC retire the stream. A small frame and its FIN usually arrive in
// one STREAM frame and take one Read.
func readFrame(r io.Reader, buf *[]byte, maxPayload int) (wire.Frame, error) {
	b := (*buf)[:cap(*buf)]
	if len(b) < wire.HeaderLen+1 {
		b = make([]byte, 512)
	}
	defer func() { *buf = b[:0] }()
	n, end := 0, -1 // end: frame length, once the header is in
	for {
		m, err := r.Read(b[n:])
		n += m
		if end < 0 && n >= wire.HeaderLen {
			_, plen, herr := wire.ParseHeader(b[:wire.HeaderLen], maxPayload)
			if herr != nil {
				return wire.Frame{}, herr
			}
			end = wire.HeaderLen + plen
			if len(b) < end+1 {
				nb := make([]byte, end+1)
				copy(nb, b[:n])
				b = nb
			}
		}
		if end >= 0 && n > end {
			return wire.Frame{}, errors.New("quic: bytes after the frame on a call stream")
		}
		if err == io.EOF {
			switch {
			case n == 0:
				return wire.Frame{}, errNoFrame
			case end < 0:
				return wire.Frame{}, fmt.Errorf("quic: stream ended inside a frame header (%d bytes): %w", n, io.ErrUnexpectedEOF)
			case n < end:
				return wire.Frame{}, fmt.Errorf("quic: stream ended inside a frame (%d of %d bytes): %w", n, end, io.ErrUnexpectedEOF)
			}
			f, _, perr := wire.Parse(b[:end], maxPayload)
			return f, perr
		}
		if err != nil {
			return wire.Frame{}, err
		}
	}
}

// appendFrame encodes f into a pooled buffer.
func appendFrame(f *wire.Frame) *[]byte {
	b := bufpool.Get()
	*b = wire.Append(*b, f)
	return b
}
