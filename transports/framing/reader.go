package framing

import (
	"fmt"
	"io"

	"rpcbench/wire"
)

// Reader reads frames from a byte stream into one growing buffer, parsing
// them in place: a frame's payload is valid until the next Next.
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	maxPayload int
	// Count, if set, is called with the byte count of every read.
	Count func(n int)
}

// NewReader returns a frame reader enforcing maxPayload (wire's default if
// <= 0).
func NewReader(r io.Reader, maxPayload int) *Reader {
	if maxPayload <= 0 {
		maxPayload = wire.DefaultMaxPayload
	}
	return &Reader{r: r, buf: make([]byte, 16<<10), maxPayload: maxPayload}
}

// Ready reports whether Next can return without reading: a whole frame, or
// a malformed header, is buffered.
func (r *Reader) Ready() bool {
	b := r.buf[r.start:r.end]
	if len(b) < wire.HeaderLen {
		return false
	}
	_, plen, err := wire.ParseHeader(b, r.maxPayload)
	return err != nil || len(b) >= wire.HeaderLen+plen
}

// Next returns the next frame. Malformed input and oversize lengths are
// errors after which the stream is unusable.
func (r *Reader) Next() (wire.Frame, error) {
	for {
		f, n, err := wire.Parse(r.buf[r.start:r.end], r.maxPayload)
		if err != nil {
			return f, err
		}
		if n > 0 {
			r.start += n
			return f, nil
		}
		if err := r.fill(); err != nil {
			if err == io.EOF && r.end > r.start {
				err = fmt.Errorf("framing: connection closed inside a frame (%d bytes buffered): %w", r.end-r.start, io.ErrUnexpectedEOF)
			}
			return f, err
		}
	}
}

// fill reads more bytes, first making room: unread bytes move to the front,
// and the buffer grows only to fit the frame announced in a parsed header.
func (r *Reader) fill() error {
	if r.start == r.end {
		r.start, r.end = 0, 0
	}
	need := wire.HeaderLen
	if r.end-r.start >= wire.HeaderLen {
		_, plen, err := wire.ParseHeader(r.buf[r.start:r.end], r.maxPayload)
		if err != nil {
			return err
		}
		need = wire.HeaderLen + plen
	}
	if r.start > 0 && (len(r.buf)-r.start < need || r.end == len(r.buf)) {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if need > len(r.buf) {
		nb := make([]byte, need)
		r.end = copy(nb, r.buf[r.start:r.end])
		r.start = 0
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[r.end:])
	if n > 0 {
		r.end += n
		if r.Count != nil {
			r.Count(n)
		}
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
