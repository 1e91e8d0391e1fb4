package codecs

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// S2 is the S2 block format from github.com/klauspost/compress (a faster
// Snappy extension). The block functions keep no state between calls, so
// there is nothing to pool: they write straight into dst's spare capacity.
// A block starts with its decoded length, checked against the limit before
// any allocation.
type S2 struct{}

func init() { RegisterCompressor(S2{}) }

// Name implements Compressor.
func (S2) Name() string { return "s2" }

// ID implements Compressor.
func (S2) ID() uint8 { return 2 }

// Describe implements Describer.
func (S2) Describe() string {
	return moduleVersion("github.com/klauspost/compress") + " s2 block, default level"
}

// Compress implements Compressor.
func (S2) Compress(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src))
	if n < 0 {
		return dst, fmt.Errorf("codecs: s2: %d bytes is too large for one block", len(src))
	}
	start := len(dst)
	dst = grow(dst, n)
	out := s2.Encode(dst[start:], src) // fits, so it is a prefix of dst[start:]
	return dst[:start+len(out)], nil
}

// Decompress implements Compressor.
func (S2) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = max(limit, 0)
	n, err := s2.DecodedLen(src)
	if err != nil {
		return dst, fmt.Errorf("codecs: s2: %w", err)
	}
	if n > limit {
		return dst, errTooBig("s2", uint64(n), limit)
	}
	start := len(dst)
	dst = grow(dst, n)
	if _, err := s2.Decode(dst[start:], src); err != nil {
		return dst[:start], fmt.Errorf("codecs: s2: %w", err)
	}
	return dst, nil
}
