package codecs

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Gzip is gzip (RFC 1952) from github.com/klauspost/compress/gzip, a
// faster drop-in for compress/gzip, at the default level. Writers and
// readers are pooled and Reset per message. gzip does not declare its
// decoded size, so Decompress reads in growing steps and stops once the
// limit is passed.
type Gzip struct{}

func init() { RegisterCompressor(Gzip{}) }

var (
	gzipWriters = sync.Pool{New: func() any {
		return &gzipWriter{z: must(gzip.NewWriterLevel(nil, gzip.DefaultCompression))}
	}}
	gzipReaders = sync.Pool{New: func() any { return new(gzipReader) }}
)

type gzipWriter struct {
	dst sliceWriter
	z   *gzip.Writer
}

type gzipReader struct {
	src bytes.Reader
	z   gzip.Reader
}

// Name implements Compressor.
func (Gzip) Name() string { return "gzip" }

// ID implements Compressor.
func (Gzip) ID() uint8 { return 4 }

// Describe implements Describer.
func (Gzip) Describe() string {
	return moduleVersion("github.com/klauspost/compress") + " gzip, default level"
}

// Compress implements Compressor.
func (Gzip) Compress(dst, src []byte) ([]byte, error) {
	w := gzipWriters.Get().(*gzipWriter)
	defer gzipWriters.Put(w)
	w.dst.b = dst
	w.z.Reset(&w.dst)
	_, err := w.z.Write(src)
	if err == nil {
		err = w.z.Close()
	}
	out := w.dst.b
	w.dst.b = nil
	if err != nil {
		return dst, fmt.Errorf("codecs: gzip: %w", err)
	}
	return out, nil
}

// Decompress implements Compressor.
func (Gzip) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = max(limit, 0)
	r := gzipReaders.Get().(*gzipReader)
	defer gzipReaders.Put(r)
	r.src.Reset(src)
	defer r.src.Reset(nil)
	if err := r.z.Reset(&r.src); err != nil {
		return dst, fmt.Errorf("codecs: gzip: %w", err)
	}
	return readLimited("gzip", dst, &r.z, limit)
}
