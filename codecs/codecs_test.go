package codecs_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/codectest"
)

// payloads every codec must round-trip (raw only takes blobs).
var payloads = []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:1000"}

var mustNew, mustZero = codectest.New, codectest.Zero

func accepts(c codecs.Codec, payload string) bool {
	return c.Name() != "raw" || strings.HasPrefix(payload, "Bytes")
}

func TestRegistry(t *testing.T) {
	want := []string{"binary", "cbor", "fastjson", "flatbuffers", "gob", "json", "msgpack", "proto", "raw",
		"thrift-binary", "thrift-compact", "vtproto", "xml"}
	if got := codecs.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	ids := map[string]uint8{"raw": 1, "json": 2, "binary": 3, "proto": 4, "vtproto": 5,
		"fastjson": 6, "msgpack": 7, "cbor": 8, "gob": 9, "xml": 10,
		"flatbuffers": 11, "thrift-binary": 12, "thrift-compact": 13}
	for name, id := range ids {
		c, err := codecs.ByName(name)
		if err != nil || c.ID() != id || codecs.ByID(id) != c {
			t.Errorf("%s: ByName err %v, ID %d, want %d", name, err, c.ID(), id)
		}
	}
	if _, err := codecs.ByName("nope"); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("ByName(nope) error %v should list the valid names", err)
	}
	wantComp := []string{"none", "gzip", "lz4", "s2", "zstd"}
	if got := codecs.CompressorNames(); !slices.Equal(got, wantComp) {
		t.Errorf("CompressorNames() = %v, want %v", got, wantComp)
	}
}

// TestRoundTrip checks, for every codec and payload, that Marshal appends
// to dst, that Unmarshal returns an equal value, and that the decoded value
// shares no memory with the input or with a later decode.
func TestRoundTrip(t *testing.T) {
	prefix := []byte("prefix")
	for _, name := range codecs.Names() {
		c, _ := codecs.ByName(name)
		for _, p := range payloads {
			t.Run(name+"/"+p, func(t *testing.T) {
				if !accepts(c, p) {
					if _, err := c.Marshal(nil, mustNew(t, p, 1)); err == nil {
						t.Fatal("Marshal accepted a type it cannot encode")
					}
					return
				}
				want := mustNew(t, p, 1)
				enc, err := c.Marshal(slices.Clone(prefix), want)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(enc, prefix) {
					t.Fatalf("Marshal did not append: got %q...", enc[:min(len(enc), 16)])
				}
				enc = enc[len(prefix):]
				got := mustZero(t, p)
				if err := c.Unmarshal(enc, got); err != nil {
					t.Fatal(err)
				}
				if !benchmsg.Equal(got, want) {
					t.Fatalf("round trip changed the value:\n got %v\nwant %v", got, want)
				}
				// Neither the input buffer nor the codec's internal buffers
				// may back the decoded value.
				for i := range enc {
					enc[i] = 'x'
				}
				other := mustNew(t, p, 2)
				enc2, err := c.Marshal(nil, other)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Unmarshal(enc2, mustZero(t, p)); err != nil {
					t.Fatal(err)
				}
				if !benchmsg.Equal(got, want) {
					t.Fatal("decoded value changed when its input buffer was overwritten")
				}
			})
		}
	}
}

func TestMarshalRejectsUnknownTypes(t *testing.T) {
	type unknown struct{ A int }
	for _, name := range []string{"binary", "proto", "vtproto", "raw", "flatbuffers", "thrift-binary", "thrift-compact"} {
		c, _ := codecs.ByName(name)
		dst := []byte("keep")
		out, err := c.Marshal(dst, &unknown{1})
		if err == nil || !strings.Contains(err.Error(), "unknown") {
			t.Errorf("%s: Marshal(*unknown) error = %v, want one naming the type", name, err)
		}
		if string(out) != "keep" {
			t.Errorf("%s: failed Marshal changed dst to %q", name, out)
		}
		if err := c.Unmarshal([]byte{1}, &unknown{}); err == nil {
			t.Errorf("%s: Unmarshal into *unknown succeeded", name)
		}
	}
}

// TestBinaryMarshalZeroAlloc guards the binary codec's promise.
func TestBinaryMarshalZeroAlloc(t *testing.T) {
	c, _ := codecs.ByName("binary")
	for _, p := range payloads {
		v := mustNew(t, p, 1)
		buf, _ := c.Marshal(nil, v)
		allocs := testing.AllocsPerRun(20, func() {
			buf, _ = c.Marshal(buf[:0], v)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Marshal into a reused buffer", p, allocs)
		}
	}
}

func TestGobSession(t *testing.T) {
	sender := codecs.Gob{}.NewSession()
	receiver := codecs.Gob{}.NewSession()
	msgs := []string{"Small", "Small", "Medium", "Small", "Large", "Medium"}
	var sizes []int
	for i, p := range msgs {
		want := mustNew(t, p, int64(i))
		enc, err := sender.Marshal(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(enc))
		got := mustZero(t, p)
		if err := receiver.Unmarshal(enc, got); err != nil {
			t.Fatalf("message %d (%s): %v", i, p, err)
		}
		if !benchmsg.Equal(got, want) {
			t.Fatalf("message %d (%s) changed", i, p)
		}
	}
	// Type definitions go out once: the second Small is smaller, and
	// smaller than a stateless Small.
	stateless, _ := codecs.Gob{}.Marshal(nil, mustNew(t, "Small", 1))
	if sizes[1] >= sizes[0] || sizes[1] >= len(stateless) {
		t.Errorf("sizes %v, stateless Small %d: type info was resent", sizes, len(stateless))
	}

	// Out of wire order the session fails (and stays failed), rather than
	// decoding the wrong thing.
	a, b := codecs.Gob{}.NewSession(), codecs.Gob{}.NewSession()
	first, _ := a.Marshal(nil, mustNew(t, "Medium", 1))
	second, _ := a.Marshal(nil, mustNew(t, "Small", 1))
	if err := b.Unmarshal(second, mustZero(t, "Small")); err == nil {
		t.Fatal("decoding a message whose type definition was never seen succeeded")
	}
	if err := b.Unmarshal(first, mustZero(t, "Medium")); err == nil {
		t.Fatal("a broken session kept decoding")
	}
}

func TestGobRefusesUncheckedMaps(t *testing.T) {
	type inner struct{ M map[string]int }
	for _, v := range []any{&[]inner{}, &struct{ P *inner }{}, &map[string]int{}} {
		if err := (codecs.Gob{}).Unmarshal([]byte{0}, v); err == nil || !strings.Contains(err.Error(), "map") {
			t.Errorf("%T: error %v, want a refusal naming the map", v, err)
		}
	}
}

func TestCompressRoundTrip(t *testing.T) {
	proto, _ := codecs.ByName("proto")
	large, _ := proto.Marshal(nil, mustNew(t, "Large", 1))
	inputs := map[string][]byte{
		"empty":      nil,
		"one":        {42},
		"random":     mustNew(t, "Bytes:5000", 1).(*benchmsg.Blob).Data,
		"zeros":      make([]byte, 100_000),
		"protoLarge": large,
	}
	prefix := []byte("prefix")
	for _, cname := range codecs.CompressorNames()[1:] {
		comp, _ := codecs.CompressorByName(cname)
		if comp.ID() == 0 || codecs.CompressorByID(comp.ID()) != comp {
			t.Errorf("%s: bad ID %d", cname, comp.ID())
		}
		for iname, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", cname, iname), func(t *testing.T) {
				z, err := comp.Compress(slices.Clone(prefix), in)
				if err != nil || !bytes.HasPrefix(z, prefix) {
					t.Fatalf("Compress: %v (appended: %v)", err, bytes.HasPrefix(z, prefix))
				}
				z = z[len(prefix):]
				out, err := comp.Decompress(slices.Clone(prefix), z, len(in))
				if err != nil || !bytes.Equal(out, append(slices.Clone(prefix), in...)) {
					t.Fatalf("Decompress at the exact limit: %v", err)
				}
				if len(in) > 0 {
					if _, err := comp.Decompress(nil, z, len(in)-1); err == nil {
						t.Fatal("Decompress ignored a limit one byte short")
					}
					if _, err := comp.Decompress(nil, z, -1); err == nil {
						t.Fatal("Decompress ignored a negative limit")
					}
				}
			})
		}
	}
}

// BenchmarkGobSession measures gob's per-connection form in steady state
// (type definitions already exchanged), to set beside the per-message
// figures of BenchmarkCodec/codec=gob.
func BenchmarkGobSession(b *testing.B) {
	for _, p := range []string{"Small", "Medium", "Large"} {
		b.Run("msg="+p, func(b *testing.B) {
			v := mustNew(b, p, 1)
			zero, _ := benchmsg.ZeroFunc(p)
			enc, dec := codecs.Gob{}.NewSession(), codecs.Gob{}.NewSession()
			buf, _ := enc.Marshal(nil, v)
			dec.Unmarshal(buf, zero()) // type definitions go out once
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = enc.Marshal(buf[:0], v)
				if err := dec.Unmarshal(buf, zero()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf)), "encoded-B")
		})
	}
}
