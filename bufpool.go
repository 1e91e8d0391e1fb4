package rpcbench

import "sync"

// bufPool recycles payload buffers so that a steady stream of calls does not
// allocate. Buffers that grew past maxPooled are left to the collector.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooled = 1 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
