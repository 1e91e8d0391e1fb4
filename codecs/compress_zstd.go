package codecs

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Zstd is Zstandard from github.com/klauspost/compress (default level).
// One Encoder and one Decoder are shared: EncodeAll and DecodeAll are safe
// for concurrent use and keep their own pools of GOMAXPROCS encoder and
// block-decoder states, so nothing is built per message. Both are created
// on first use, so importing the package costs nothing.
//
// Decompress sizes its output from the frame's content size (which
// EncodeAll always writes) after checking it against the limit, and the
// decoder runs with its output capped at dst's capacity, so a frame that
// lies about its size fails instead of growing.
type Zstd struct{}

func init() { RegisterCompressor(Zstd{}) }

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		return must(zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault)))
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		return must(zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0), // GOMAXPROCS states for DecodeAll
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxWindow(64<<20)))
	})
)

// Name implements Compressor.
func (Zstd) Name() string { return "zstd" }

// ID implements Compressor.
func (Zstd) ID() uint8 { return 1 }

// Describe implements Describer.
func (Zstd) Describe() string {
	return moduleVersion("github.com/klauspost/compress") + " zstd, default level"
}

// Compress implements Compressor.
func (Zstd) Compress(dst, src []byte) ([]byte, error) {
	return zstdEncoder().EncodeAll(src, dst), nil
}

// Decompress implements Compressor.
func (Zstd) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = max(limit, 0)
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return dst, fmt.Errorf("codecs: zstd: %w", err)
	}
	// Room for the first frame's declared size, or a guess; doubled (up to
	// the limit) when more frames or an undeclared size need more.
	room := min(limit, max(4*len(src), 4096))
	if h.HasFCS {
		if h.FrameContentSize > uint64(limit) {
			return dst, errTooBig("zstd", h.FrameContentSize, limit)
		}
		room = int(h.FrameContentSize)
	}
	start := len(dst)
	buf := dst
	for {
		// slices.Grow may round capacity up, hence the check after success.
		buf = slices.Grow(buf[:start], room)
		out, err := zstdDecoder().DecodeAll(src, buf)
		switch {
		case err == nil && len(out)-start <= limit:
			return out, nil
		case err == nil:
			return dst[:start], errOverLimit("zstd", limit)
		case !errors.Is(err, zstd.ErrDecoderSizeExceeded):
			return dst[:start], fmt.Errorf("codecs: zstd: %w", err)
		case room >= limit:
			return dst[:start], errOverLimit("zstd", limit)
		}
		room = min(2*room+1, limit)
	}
}
