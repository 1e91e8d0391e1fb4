// Package bufpool recycles byte buffers so that a steady stream of calls
// does not allocate. Buffers that grew past Max are left to the collector.
package bufpool

import "sync"

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Max is the largest capacity Put keeps.
const Max = 1 << 20

// Get returns an empty buffer.
func Get() *[]byte { return pool.Get().(*[]byte) }

// Put recycles b unless it grew past Max.
func Put(b *[]byte) {
	if cap(*b) > Max {
		return
	}
	*b = (*b)[:0]
	pool.Put(b)
}
