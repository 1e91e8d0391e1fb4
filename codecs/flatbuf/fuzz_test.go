package flatbuf_test

import (
	"testing"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/flatbuf"
)

// FuzzUnmarshal decodes arbitrary bytes into every benchmark message: it
// never panics, and a decode that succeeds is faithful: the value encodes
// and decodes to itself again, and the in-place read of the same bytes
// sees exactly what the decode produced.
// Run with: go test -fuzz FuzzUnmarshal ./codecs/flatbuf
func FuzzUnmarshal(f *testing.F) {
	c := flatbuf.Codec{}
	for _, p := range []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:100"} {
		for seed := range int64(3) {
			v := mustNew(f, p, seed)
			if l, ok := v.(*benchmsg.Large); ok {
				l.Records = l.Records[:3] // small seeds keep the fuzzer fast
			}
			f.Add(encode(f, v))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sum, readErr := c.ReadInPlace(data)
		decoded := 0
		for _, p := range []string{"Small", "Medium", "Large", "Bytes:0"} {
			got := mustZero(t, p)
			if c.Unmarshal(data, got) != nil {
				continue
			}
			decoded++
			again := mustZero(t, p)
			if err := c.Unmarshal(encode(t, got), again); err != nil || !benchmsg.Equal(got, again) {
				t.Fatalf("%s: second round trip: err %v, equal %v", p, err, benchmsg.Equal(got, again))
			}
			if want, _ := flatbuf.Checksum(got); readErr != nil || sum != want {
				t.Fatalf("%s decoded, but ReadInPlace gives %x, %v; want %x", p, sum, readErr, want)
			}
		}
		if decoded > 1 {
			t.Fatalf("one buffer decoded as %d message types", decoded)
		}
		if readErr == nil && decoded == 0 {
			t.Fatal("ReadInPlace accepted a buffer that no Unmarshal accepts")
		}
	})
}
