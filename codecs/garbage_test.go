package codecs_test

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math/rand/v2"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

// maxGarbageAlloc bounds what one Unmarshal or Decompress of bad input may
// allocate. Legitimate decodes of these small inputs need far less.
const maxGarbageAlloc = 8 << 20

// Length-like byte patterns planted into valid encodings: varints, and
// the array, map and byte-string headers of msgpack, CBOR and gob with
// the largest counts they can hold.
var absurd = [][]byte{
	{0xff, 0xff, 0xff, 0xff, 0x0f},                         // uvarint 2^32-1
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // uvarint 2^63-1
	{0xdd, 0xff, 0xff, 0xff, 0xff},                         // msgpack array32
	{0xdf, 0x7f, 0xff, 0xff, 0xff},                         // msgpack map32
	{0xc6, 0x7f, 0xff, 0xff, 0xff},                         // msgpack bin32
	{0x9b, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff},          // CBOR array, 8-byte count
	{0xbb, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff},          // CBOR map
	{0x5b, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff},          // CBOR byte string
	{0xfc, 0x7f, 0xff, 0xff, 0xff},                         // gob uint, 4 bytes
}

// corruptions returns bad inputs derived from a valid encoding: every
// truncation, absurd lengths planted (overwritten and inserted) at up to
// positions offsets, and random byte flips.
func corruptions(enc []byte, positions int, r *rand.Rand) (truncated, planted [][]byte) {
	step := max(1, len(enc)/positions)
	for i := 0; i < len(enc); i += max(1, step/4) {
		truncated = append(truncated, enc[:i])
	}
	for i := 0; i < len(enc); i += step {
		for _, a := range absurd {
			over := bytes.Clone(enc)
			copy(over[i:], a)
			ins := append(append(bytes.Clone(enc[:i]), a...), enc[i:]...)
			planted = append(planted, over, ins)
		}
		flip := bytes.Clone(enc)
		flip[i] ^= byte(1 + r.IntN(255))
		planted = append(planted, flip)
	}
	return truncated, planted
}

var allocsMetric = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func heapAllocs() uint64 {
	metrics.Read(allocsMetric)
	return allocsMetric[0].Value.Uint64()
}

// try runs f on input, failing the test on a panic or a big allocation.
func try(t *testing.T, what string, input []byte, f func([]byte) error) error {
	t.Helper()
	var err error
	before := heapAllocs()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s panicked on %x: %v", what, input[:min(len(input), 64)], p)
			}
		}()
		err = f(input)
	}()
	if got := heapAllocs() - before; got > maxGarbageAlloc {
		t.Fatalf("%s allocated %d MiB for %d bytes of bad input %x", what, got>>20, len(input), input[:min(len(input), 64)])
	}
	return err
}

// wireFormatIsLenient: protobuf treats a message cut at a field boundary,
// or any sequence of valid fields, as a valid (different) message.
func wireFormatIsLenient(name string) bool { return name == "proto" || name == "vtproto" }

// TestUnmarshalGarbage feeds the same kinds of bad input to every codec
// and payload type: no panic, no big allocation, and an error wherever the
// format can tell.
func TestUnmarshalGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := [][]byte{nil, {0}, {0xff}}
	for range 64 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		random = append(random, b)
	}
	for _, name := range codecs.Names() {
		c, _ := codecs.ByName(name)
		t.Run(name, func(t *testing.T) {
			for _, p := range []string{"Small", "Medium", "Bytes:64"} {
				if !accepts(c, p) {
					continue
				}
				enc, err := c.Marshal(nil, mustNew(t, p, 1))
				if err != nil {
					t.Fatal(err)
				}
				truncated, planted := corruptions(enc, 32, r)
				decode := func(b []byte) error { return c.Unmarshal(b, mustZero(t, p)) }
				for _, b := range truncated {
					err := try(t, name+" "+p, b, decode)
					if err == nil && !wireFormatIsLenient(name) && name != "raw" {
						t.Errorf("%s: %d of %d bytes decoded without error", p, len(b), len(enc))
					}
				}
				for _, b := range append(planted, random...) {
					try(t, name+" "+p, b, decode)
				}
			}
		})
	}
}

// TestGobHugeMapCount plants a 2^28 map count in a valid gob stream, which
// plain encoding/gob answers with a multi-GiB allocation.
func TestGobHugeMapCount(t *testing.T) {
	v := &benchmsg.Medium{Counters: map[string]int64{"x": 1}}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	enc := buf.Bytes()
	i := bytes.LastIndex(enc, []byte{0x01, 0x01, 'x'}) // count 1, key "x"
	bad := append(append(bytes.Clone(enc[:i]), 0xfc, 0x10, 0, 0, 0), enc[i+1:]...)
	last := 0 // the value message is the last one; patch its length
	for p := 0; p < len(enc); p += 1 + int(enc[p]) {
		last = p
	}
	bad[last] += 4
	try(t, "gob", bad, func(b []byte) error { return codecs.Gob{}.Unmarshal(b, new(benchmsg.Medium)) })
}

// TestDecompressGarbage runs bad input and bombs through every compressor.
func TestDecompressGarbage(t *testing.T) {
	const limit = 64 << 10
	zeros := make([]byte, 1<<20) // compresses to ~1 KiB: a bomb for limit
	var stream bytes.Buffer      // zstd without a declared content size
	zw, _ := zstd.NewWriter(&stream)
	zw.Write(zeros)
	zw.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for _, cname := range codecs.CompressorNames()[1:] {
		comp, _ := codecs.CompressorByName(cname)
		t.Run(cname, func(t *testing.T) {
			decompress := func(b []byte) error { _, err := comp.Decompress(nil, b, limit); return err }
			bomb, _ := comp.Compress(nil, zeros)
			bombs := [][]byte{bomb}
			if cname == "zstd" {
				bombs = append(bombs, stream.Bytes())
			}
			for _, b := range bombs {
				if err := try(t, cname+" bomb", b, decompress); err == nil || !strings.Contains(err.Error(), "limit") {
					t.Errorf("bomb of %d bytes: error %v, want the limit", len(b), err)
				}
			}
			valid, _ := comp.Compress(nil, mustNew(t, "Bytes:3000", 1).(*benchmsg.Blob).Data[:1000])
			valid, _ = comp.Compress(valid[:0], bytes.Repeat(valid, 3)) // compressible
			truncated, planted := corruptions(valid, 64, r)
			for _, b := range truncated {
				if err := try(t, cname, b, decompress); err == nil && len(b) > 0 {
					t.Errorf("%d of %d bytes decompressed without error", len(b), len(valid))
				}
			}
			for _, b := range planted {
				try(t, cname, b, decompress)
			}
			var hdr [binary.MaxVarintLen64]byte // a size header claiming 2^40
			huge := hdr[:binary.PutUvarint(hdr[:], 1<<40)]
			try(t, cname, append(huge, 1, 2, 3), decompress)
		})
	}
}

func ExampleDescribe() {
	c, _ := codecs.ByName("gob")
	fmt.Println(codecs.Describe(c))
	// Output: encoding/gob (stdlib), new stream per message
}
