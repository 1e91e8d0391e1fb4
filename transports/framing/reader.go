package framing

import (
	"fmt"
	"io"
	"time"

	"rpcbench/transports/admit"
	"rpcbench/wire"
)

// Reader reads frames from a byte stream into one buffer, parsing them in
// place: a frame's payload is valid until the next Next.
//
// The buffer starts small and grows as a large frame's bytes arrive, never
// ahead of them: a header announcing a large payload costs nothing until
// the payload comes. Growth past the initial size is charged to Budget, if
// set, and given back when the buffer shrinks again.
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	maxPayload int
	last       int // length of the last frame returned
	// Count, if set, is called with the byte count of every read.
	Count func(n int)
	// Budget, if set, is charged for the buffer's growth; a growth it
	// cannot cover within BudgetWait fails Next with ErrBudget.
	Budget     *admit.Bytes
	BudgetWait time.Duration
	charged    int
	err        error // the first error: every later Next returns it
}

// initialSize is a Reader's buffer size, enough for every small frame
// (and for many in one read).
const initialSize = 16 << 10

// keepSize: a grown buffer up to this size is kept between frames as long
// as large frames keep coming, so that steady large payloads do not grow a
// buffer per frame; a larger one is let go as soon as it is empty.
const keepSize = 1 << 20

// ErrBudget: the server's memory for requests in progress stayed spent.
var ErrBudget = fmt.Errorf("framing: no memory left for requests in progress (MaxInProgress); dropping the connection")

// NewReader returns a frame reader enforcing maxPayload (wire's default if
// <= 0).
func NewReader(r io.Reader, maxPayload int) *Reader {
	if maxPayload <= 0 {
		maxPayload = wire.DefaultMaxPayload
	}
	return &Reader{r: r, buf: make([]byte, initialSize), maxPayload: maxPayload}
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

// Buffered returns the bytes read but not yet returned as frames: non-zero
// while a frame is arriving.
func (r *Reader) Buffered() int { return r.end - r.start }

// Next returns the next frame. Malformed input and oversize lengths are
// errors after which the stream is unusable: the first error frees the
// buffer (and its charge to the budget) and is returned from then on.
func (r *Reader) Next() (wire.Frame, error) {
	if r.err != nil {
		return wire.Frame{}, r.err
	}
	for {
		f, n, err := wire.Parse(r.buf[r.start:r.end], r.maxPayload)
		if err != nil {
			return f, r.fail(err)
		}
		if n > 0 {
			r.start += n
			r.last = n
			return f, nil
		}
		if err := r.fill(); err != nil {
			if err == io.EOF && r.end > r.start {
				err = fmt.Errorf("framing: connection closed inside a frame (%d bytes buffered): %w", r.end-r.start, io.ErrUnexpectedEOF)
			}
			return f, r.fail(err)
		}
	}
}

func (r *Reader) fail(err error) error {
	r.err = err
	r.Budget.Give(r.charged)
	r.charged = 0
	r.buf, r.start, r.end = nil, 0, 0
	return err
}

// fill reads more bytes, first making room: unread bytes move to the front,
// and a full buffer grows, at most doubling, towards the size of the frame
// announced in its header.
func (r *Reader) fill() error {
	if r.start == r.end {
		r.start, r.end = 0, 0
		if len(r.buf) > initialSize && (r.last <= initialSize || len(r.buf) > keepSize) {
			r.resize(initialSize)
		}
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
	if r.end == len(r.buf) && need > len(r.buf) {
		size := min(need, 2*len(r.buf))
		var deadline time.Time
		if r.BudgetWait > 0 {
			deadline = time.Now().Add(r.BudgetWait)
		}
		if !r.Budget.Take(size-len(r.buf), deadline) {
			return ErrBudget
		}
		r.charged += size - len(r.buf)
		r.resize(size)
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

// resize moves the unread bytes to a buffer of size bytes, giving back the
// budget a smaller one frees.
func (r *Reader) resize(size int) {
	if size < len(r.buf) {
		give := min(r.charged, len(r.buf)-size)
		r.Budget.Give(give)
		r.charged -= give
	}
	nb := make([]byte, size)
	r.end = copy(nb, r.buf[r.start:r.end])
	r.start = 0
	r.buf = nb
}
