package quic

import (
	"errors"
	"fmt"
	"io"
	"time"

	"rpcbench/internal/bufpool"
	"rpcbench/transports/admit"
	"rpcbench/wire"
)

// errNoFrame: a call stream ended before any byte of a frame.
var errNoFrame = errors.New("quic: stream ended without a frame")

// errBudget: a frame could not get memory within its connection's and
// listener's budgets in time.
var errBudget = errors.New("quic: no memory left for requests in progress (MaxInProgress, MaxInProgressPerConn)")

// readFrame reads the one frame a call stream carries, and the stream's end,
// into *buf; the frame's payload aliases *buf. The header is checked (and an
// oversize length refused) as soon as it is in; the buffer grows as the
// payload arrives, at most doubling per read, never ahead of it, and its
// growth is charged to fb (nil: no budget), which the caller releases
// once done with the frame. Bytes after the frame are an error.
// Reading to io.EOF is what lets QUIC retire the stream. A small frame and
// its FIN usually arrive in one STREAM frame and take one Read.
func readFrame(r io.Reader, buf *[]byte, maxPayload int, fb *frameBudget) (wire.Frame, error) {
	b := (*buf)[:cap(*buf)]
	if len(b) < wire.HeaderLen+1 {
		b = make([]byte, 512)
	}
	defer func() { *buf = b[:0] }()
	n, end := 0, -1 // end: frame length, once the header is in
	for {
		if n == len(b) && end >= 0 { // full: grow towards the frame (and one byte to see the end)
			size := min(end+1, 2*len(b))
			if !fb.take(size - len(b)) {
				return wire.Frame{}, errBudget
			}
			nb := make([]byte, size)
			copy(nb, b[:n])
			b = nb
		}
		m, err := r.Read(b[n:])
		n += m
		if end < 0 && n >= wire.HeaderLen {
			_, plen, herr := wire.ParseHeader(b[:wire.HeaderLen], maxPayload)
			if herr != nil {
				return wire.Frame{}, herr
			}
			end = wire.HeaderLen + plen
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

// frameBudget charges the growth of one stream's frame buffer to a
// budget, waiting up to wait for it.
type frameBudget struct {
	b       *admit.Bytes
	wait    time.Duration
	charged int
}

func (fb *frameBudget) take(n int) bool {
	if fb == nil {
		return true
	}
	var deadline time.Time
	if fb.wait > 0 {
		deadline = time.Now().Add(fb.wait)
	}
	if !fb.b.Take(n, deadline) {
		return false
	}
	fb.charged += n
	return true
}

// release gives back what the frame took.
func (fb *frameBudget) release() {
	fb.b.Give(fb.charged)
	fb.charged = 0
}

// appendFrame encodes f into a pooled buffer.
func appendFrame(f *wire.Frame) *[]byte {
	b := bufpool.Get()
	*b = wire.Append(*b, f)
	return b
}
