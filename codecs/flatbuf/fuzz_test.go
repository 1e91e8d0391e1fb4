package flatbuf_test

import (
	"testing"

	"rpcbench/codecs/codectest"
	"rpcbench/codecs/flatbuf"
)

// FuzzUnmarshal decodes arbitrary bytes into every benchmark message: it
// never panics, at most one message type accepts an input, a decode that
// succeeds is faithful (codectest.DecodeEveryType), and the in-place read
// of the same bytes sees exactly what the decode produced.
// Run with: go test -fuzz FuzzUnmarshal ./codecs/flatbuf
func FuzzUnmarshal(f *testing.F) {
	c := flatbuf.Codec{}
	codectest.AddSeeds(f, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, readErr := c.ReadInPlace(data)
		decoded := codectest.DecodeEveryType(t, c, data)
		switch {
		case len(decoded) > 1:
			t.Fatalf("one buffer decoded as %d message types", len(decoded))
		case len(decoded) == 0 && readErr == nil:
			t.Fatal("ReadInPlace accepted a buffer that no Unmarshal accepts")
		case len(decoded) == 1:
			if want, _ := flatbuf.Checksum(decoded[0]); readErr != nil || sum != want {
				t.Fatalf("%T decoded, but ReadInPlace gives %x, %v; want %x", decoded[0], sum, readErr, want)
			}
		}
	})
}
