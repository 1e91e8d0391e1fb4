package record

import "sync"

// batchSize is how many successful calls a Batch buffers before it takes
// the lock: at 500k calls/s a few thousand acquisitions a second.
const batchSize = 128

// Shared is one Recorder fed by many workers, each through its own Batch.
//
// One histogram per worker would need no lock, but at 64 workers their
// hot counters no longer stay in cache: recording was ~10% of a
// pipelined client's CPU, nearly all of it one cache miss per call. A
// single histogram's hot counters stay cached, and the lock is taken
// once per batch.
type Shared struct {
	mu  sync.Mutex
	rec *Recorder
}

// NewShared returns an empty shared recorder; uncorrected as NewRecorder.
func NewShared(uncorrected bool) *Shared { return &Shared{rec: NewRecorder(uncorrected)} }

// Batch returns a new worker's buffer in front of s. A Batch belongs to
// one goroutine, which must Flush it when it stops recording.
func (s *Shared) Batch() *Batch { return &Batch{s: s} }

// Recorder returns the recordings of every flushed Batch. Call it once the
// workers have flushed and stopped.
func (s *Shared) Recorder() *Recorder { return s.rec }

// Batch buffers one worker's successful calls for a Shared recorder.
type Batch struct {
	s              *Shared
	n              int
	corrected, raw [batchSize]int64
}

// OK records a successful call as Recorder.OK does, once flushed.
func (b *Batch) OK(corrected, raw int64) {
	b.corrected[b.n], b.raw[b.n] = corrected, raw
	b.n++
	if b.n == batchSize {
		b.Flush()
	}
}

// Fail records a failed call at once: failures carry a code and message,
// and are rare on a healthy run.
func (b *Batch) Fail(code, msg string, latency int64) {
	b.s.mu.Lock()
	b.s.rec.Fail(code, msg, latency)
	b.s.mu.Unlock()
}

// Flush adds the buffered calls to the shared recorder.
func (b *Batch) Flush() {
	if b.n == 0 {
		return
	}
	b.s.mu.Lock()
	r := b.s.rec
	for i := range b.n {
		r.OK(b.corrected[i], b.raw[i])
	}
	b.s.mu.Unlock()
	b.n = 0
}
