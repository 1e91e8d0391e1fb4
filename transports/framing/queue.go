// Package framing holds the pieces every stream transport shares: a
// write-coalescing frame queue, a frame reader, and a frame connection over
// any net.Conn (TCP, Unix sockets, TLS, QUIC streams).
package framing

import (
	"fmt"
	"net"
	"sync"

	"rpcbench/wire"
)

var errQueueClosed = fmt.Errorf("framing: connection closing: %w", net.ErrClosed)

// DefaultQueueLimit bounds the bytes queued behind a slow writer before
// senders block.
const DefaultQueueLimit = 4 << 20

// Queue coalesces frames from many goroutines into batches for one writer.
// The first sender to find the queue idle becomes the writer: it takes the
// batch, writes it, then calls Next until Next returns nil, so frames that
// others queue meanwhile leave in the same write. Nothing waits on a
// dedicated writer goroutine, and an idle connection writes at once.
type Queue struct {
	mu       sync.Mutex
	drained  sync.Cond
	buf      []byte // frames waiting
	inflight []byte // batch being written
	busy     bool
	corked   bool // the reader will flush: Push elects no writer
	err      error
	limit    int
	onIdle   func() // set by Close while a writer is busy
}

// NewQueue returns a queue that blocks senders once limit bytes wait
// (DefaultQueueLimit if limit <= 0).
func NewQueue(limit int) *Queue {
	if limit <= 0 {
		limit = DefaultQueueLimit
	}
	q := &Queue{limit: limit}
	q.drained.L = &q.mu
	return q
}

// Push queues f. It reports whether the caller has become the writer, in
// which case it must call Take, write the batch, and go on with Next. The
// error is the queue's terminal error, if any.
func (q *Queue) Push(f *wire.Frame) (writer bool, err error) {
	q.mu.Lock()
	for q.busy && len(q.buf) > q.limit && q.err == nil {
		q.drained.Wait()
	}
	if q.err != nil {
		err := q.err
		q.mu.Unlock()
		return false, err
	}
	q.buf = wire.Append(q.buf, f)
	writer = !q.busy && (!q.corked || len(q.buf) > q.limit)
	if writer {
		q.busy = true
	}
	q.mu.Unlock()
	return writer, nil
}

// Cork holds frames pushed from now on in the queue, without electing a
// writer, until Uncork: a reader that answers a burst of requests on its
// own goroutine sends the whole burst's replies in one write. Past the
// queue's limit a pusher becomes the writer anyway.
func (q *Queue) Cork() {
	q.mu.Lock()
	q.corked = true
	q.mu.Unlock()
}

// Uncork ends Cork. It reports whether the caller has become the writer of
// frames held meanwhile, in which case it must Take, write and go on with
// Next as after Push.
func (q *Queue) Uncork() (writer bool) {
	q.mu.Lock()
	q.corked = false
	writer = !q.busy && len(q.buf) > 0 && q.err == nil
	if writer {
		q.busy = true
	}
	q.mu.Unlock()
	return writer
}

// Take hands the writer everything queued so far as one batch.
func (q *Queue) Take() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.swapLocked()
}

// Next reports the outcome of writing the last batch and returns the next
// batch to write, or nil when the queue is empty (the writer's turn ends).
// After a write error every later Push fails with it.
func (q *Queue) Next(werr error) []byte {
	q.mu.Lock()
	if werr != nil && q.err == nil {
		q.err = werr
	}
	q.drained.Broadcast()
	if len(q.buf) > 0 && werr == nil && (q.err == nil || q.onIdle != nil) {
		batch := q.swapLocked()
		q.mu.Unlock()
		return batch
	}
	q.busy = false
	idle := q.onIdle
	q.onIdle = nil
	q.mu.Unlock()
	if idle != nil {
		idle()
	}
	return nil
}

// Close refuses further frames and calls closeFn once everything already
// queued has been written (at once if nothing is), so that a connection
// closed after its last reply does not lose that reply. If frames wait with
// no write under way (held by Cork), Close reports that the caller has
// become their writer, as Push does; Next then calls closeFn at the end.
func (q *Queue) Close(closeFn func()) (writer bool) {
	q.mu.Lock()
	if q.err == nil {
		q.err = errQueueClosed
	}
	q.drained.Broadcast()
	if !q.busy && len(q.buf) > 0 {
		q.busy, writer = true, true
	}
	if q.busy {
		q.onIdle = closeFn
		q.mu.Unlock()
		return writer
	}
	q.mu.Unlock()
	closeFn()
	return false
}

// Fail makes every later Push return err and wakes blocked senders.
func (q *Queue) Fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.drained.Broadcast()
	q.mu.Unlock()
}

// swapLocked hands the waiting frames out as a batch and recycles the
// previous batch's storage for new frames.
func (q *Queue) swapLocked() []byte {
	batch := q.buf
	q.buf = q.inflight[:0]
	q.inflight = batch
	return batch
}
