package codecs_test

import (
	"bytes"
	"testing"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

var fuzzPayloads = []string{"Small", "Medium", "Large", "Bytes:0"}

// fuzzSeeds are every codec's encodings of small benchmark messages.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, name := range codecs.Names() {
		c, err := codecs.ByName(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range []string{"Small", "Medium", "Large", "Bytes:100"} {
			v, _ := benchmsg.New(p, 1)
			if l, ok := v.(*benchmsg.Large); ok {
				l.Records = l.Records[:2] // small seeds keep the fuzzer fast
			}
			if enc, err := c.Marshal(nil, v); err == nil {
				seeds = append(seeds, enc)
			}
		}
	}
	return seeds
}

// FuzzUnmarshal: every codec either refuses any input or decodes it into
// a benchmark message that survives another round trip; none panics.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range codecs.Names() {
			c, _ := codecs.ByName(name)
			for _, p := range fuzzPayloads {
				got, _ := benchmsg.NewZero(p)
				if c.Unmarshal(data, got) != nil {
					continue
				}
				enc, err := c.Marshal(nil, got)
				if err != nil {
					t.Fatalf("%s: %s decoded but does not encode: %v", name, p, err)
				}
				again, _ := benchmsg.NewZero(p)
				if err := c.Unmarshal(enc, again); err != nil || !benchmsg.Equal(got, again) {
					t.Fatalf("%s: %s: second round trip: err %v, equal %v", name, p, err, benchmsg.Equal(got, again))
				}
			}
		}
	})
}

// FuzzDecompress: every decompressor stays within its output limit on any
// input, and gives back what its compressor took, refusing it under a
// limit one byte too small.
func FuzzDecompress(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(1<<12))
		for _, name := range codecs.CompressorNames() {
			c, _ := codecs.CompressorByName(name)
			if c == nil { // "none"
				continue
			}
			if z, err := c.Compress(nil, s); err == nil {
				f.Add(z, uint16(len(s)))
			}
		}
	}
	f.Add(bytes.Repeat([]byte{0}, 64), uint16(10))
	f.Add([]byte{0x00, 0x10, 0x20, 0x30}, uint16(100)) // lz4: a compressed block of 0 bytes (panicked)
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		for _, name := range codecs.CompressorNames() {
			c, err := codecs.CompressorByName(name)
			if err != nil || c == nil {
				continue
			}
			if out, err := c.Decompress(nil, data, int(limit)); err == nil && len(out) > int(limit) {
				t.Fatalf("%s: %d bytes out over the %d limit", name, len(out), limit)
			}
			z, err := c.Compress(nil, data)
			if err != nil {
				t.Fatalf("%s: compress: %v", name, err)
			}
			out, err := c.Decompress(nil, z, len(data))
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("%s: round trip of %d bytes: %d bytes, %v", name, len(data), len(out), err)
			}
			if len(data) > 0 {
				if out, err := c.Decompress(nil, z, len(data)-1); err == nil {
					t.Fatalf("%s: %d bytes under a limit of %d", name, len(out), len(data)-1)
				}
			}
		}
	})
}
