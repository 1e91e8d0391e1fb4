package codecs

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Compressor is an optional layer over a codec's bytes, flagged in the frame
// by its ID. Implementations are safe for concurrent use and reuse their
// encoders and decoders internally.
type Compressor interface {
	Name() string
	// ID is the compression byte in the frame header; 0 is "none".
	ID() uint8
	// Compress appends the compressed form of src to dst.
	Compress(dst, src []byte) ([]byte, error)
	// Decompress appends the decompressed form of src to dst, failing once
	// the output would exceed limit bytes.
	Decompress(dst, src []byte, limit int) ([]byte, error)
}

var compressors = struct {
	sync.RWMutex
	byName map[string]Compressor
	byID   [256]Compressor
}{byName: map[string]Compressor{}}

// RegisterCompressor adds c; it panics on a duplicate name or ID.
func RegisterCompressor(c Compressor) {
	compressors.Lock()
	defer compressors.Unlock()
	if _, dup := compressors.byName[c.Name()]; dup || compressors.byID[c.ID()] != nil || c.ID() == 0 {
		panic(fmt.Sprintf("codecs: compressor %q: duplicate name or ID %d", c.Name(), c.ID()))
	}
	compressors.byName[c.Name()] = c
	compressors.byID[c.ID()] = c
}

// CompressorByName returns the named compressor; "none" and "" return nil
// with no error.
func CompressorByName(name string) (Compressor, error) {
	if name == "" || name == "none" {
		return nil, nil
	}
	compressors.RLock()
	c, ok := compressors.byName[name]
	compressors.RUnlock()
	if !ok {
		return nil, fmt.Errorf("codecs: unknown compression %q (valid: %s)", name, strings.Join(CompressorNames(), ", "))
	}
	return c, nil
}

// CompressorByID returns the compressor with the given wire ID, or nil.
func CompressorByID(id uint8) Compressor {
	compressors.RLock()
	defer compressors.RUnlock()
	return compressors.byID[id]
}

// CompressorNames lists "none" and every registered compressor.
func CompressorNames() []string {
	compressors.RLock()
	defer compressors.RUnlock()
	names := []string{"none"}
	for n := range compressors.byName {
		names = append(names, n)
	}
	sort.Strings(names[1:])
	return names
}
