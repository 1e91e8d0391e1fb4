package codecs

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// LZ4 is the LZ4 block format from github.com/pierrec/lz4/v4, behind a
// uvarint header holding decodedLen<<1 | stored, where stored means the
// bytes follow uncompressed because LZ4 could not shrink them. The header
// lets Decompress check the size before it allocates; the block format
// itself does not carry it. lz4.Compressor (its hash table) is not safe
// for concurrent use, so compressors come from a pool.
type LZ4 struct{}

func init() { RegisterCompressor(LZ4{}) }

var lz4Compressors = sync.Pool{New: func() any { return new(lz4.Compressor) }}

// An LZ4 sequence of one literal token plus 255-byte length extensions
// expands about 255 times at most; anything claiming more is corrupt.
const lz4MaxRatio = 256

// Name implements Compressor.
func (LZ4) Name() string { return "lz4" }

// ID implements Compressor.
func (LZ4) ID() uint8 { return 3 }

// Describe implements Describer.
func (LZ4) Describe() string { return moduleVersion("github.com/pierrec/lz4/v4") + " block, fast" }

// Compress implements Compressor.
func (LZ4) Compress(dst, src []byte) ([]byte, error) {
	start := len(dst)
	bound := lz4.CompressBlockBound(len(src))
	dst = grow(dst, binary.MaxVarintLen64+bound)
	hdr := binary.PutUvarint(dst[start:], uint64(len(src))<<1)
	c := lz4Compressors.Get().(*lz4.Compressor)
	n, err := c.CompressBlock(src, dst[start+hdr:])
	lz4Compressors.Put(c)
	if err != nil {
		return dst[:start], fmt.Errorf("codecs: lz4: %w", err)
	}
	if n == 0 || n >= len(src) { // incompressible: store
		hdr = binary.PutUvarint(dst[start:], uint64(len(src))<<1|1)
		return append(dst[:start+hdr], src...), nil
	}
	return dst[:start+hdr+n], nil
}

// Decompress implements Compressor.
func (LZ4) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = max(limit, 0)
	h, hdr := binary.Uvarint(src)
	if hdr <= 0 {
		return dst, fmt.Errorf("codecs: lz4: bad header")
	}
	n, stored, body := h>>1, h&1 == 1, src[hdr:]
	switch {
	case n > uint64(limit):
		return dst, errTooBig("lz4", n, limit)
	case stored && n != uint64(len(body)):
		return dst, fmt.Errorf("codecs: lz4: stored block of %d bytes claims %d", len(body), n)
	case stored:
		return append(dst, body...), nil
	case n == 0:
		// Compress stores empty input; the lz4 block decoder panics on
		// an empty destination.
		return dst, fmt.Errorf("codecs: lz4: a compressed block that decodes to nothing")
	case n > lz4MaxRatio*uint64(len(body)):
		return dst, fmt.Errorf("codecs: lz4: %d bytes cannot decode to %d", len(body), n)
	}
	start := len(dst)
	dst = grow(dst, int(n))
	got, err := lz4.UncompressBlock(body, dst[start:])
	if err != nil {
		return dst[:start], fmt.Errorf("codecs: lz4: %w", err)
	}
	if uint64(got) != n {
		return dst[:start], fmt.Errorf("codecs: lz4: block decoded to %d bytes, header says %d", got, n)
	}
	return dst, nil
}
