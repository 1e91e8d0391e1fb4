package codecs

import (
	"fmt"
	"io"
	"slices"
)

// Decompress's limit counts the bytes it appends to dst. Every compressor
// checks a size it learns from the input against the limit before it
// allocates, or stops reading once the limit is passed, so a small
// "decompression bomb" costs at most limit bytes of memory. A negative
// limit counts as 0.

func errTooBig(name string, size uint64, limit int) error {
	return fmt.Errorf("codecs: %s: decompressed size %d exceeds the limit of %d bytes", name, size, limit)
}

func errOverLimit(name string, limit int) error {
	return fmt.Errorf("codecs: %s: decompressed size exceeds the limit of %d bytes", name, limit)
}

// readLimited appends everything r yields to dst, failing once that is
// more than limit bytes. Growth is geometric and never past the limit.
func readLimited(name string, dst []byte, r io.Reader, limit int) ([]byte, error) {
	start := len(dst)
	lr := io.LimitedReader{R: r, N: int64(limit) + 1}
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, int(min(int64(max(len(dst)-start, 512)), lr.N)))
		}
		n, err := lr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst[:start], fmt.Errorf("codecs: %s: %w", name, err)
		}
	}
	if len(dst)-start > limit {
		return dst[:start], errOverLimit(name, limit)
	}
	return dst, nil
}
