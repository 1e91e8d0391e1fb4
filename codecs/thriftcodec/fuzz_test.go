package thriftcodec_test

import (
	"testing"

	"rpcbench/codecs/benchmsg"
)

// FuzzUnmarshal decodes arbitrary bytes with both protocols into every
// benchmark message: it never panics, at most one message type accepts a
// given input, and a decode that succeeds is faithful: the value encodes
// and decodes to itself again.
// Run with: go test -fuzz FuzzUnmarshal ./codecs/thriftcodec
func FuzzUnmarshal(f *testing.F) {
	for _, c := range protocols {
		for _, p := range []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:100"} {
			for seed := range int64(2) {
				v := mustNew(f, p, seed)
				if l, ok := v.(*benchmsg.Large); ok {
					l.Records = l.Records[:3] // small seeds keep the fuzzer fast
				}
				enc, err := c.Marshal(nil, v)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(enc)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range protocols {
			decoded := 0
			for _, p := range []string{"Small", "Medium", "Large", "Bytes:0"} {
				got := mustZero(t, p)
				if c.Unmarshal(data, got) != nil {
					continue
				}
				decoded++
				enc, err := c.Marshal(nil, got)
				if err != nil {
					t.Fatalf("%s: %s decoded but does not encode: %v", c.Name(), p, err)
				}
				again := mustZero(t, p)
				if err := c.Unmarshal(enc, again); err != nil || !benchmsg.Equal(got, again) {
					t.Fatalf("%s: %s: second round trip: err %v, equal %v", c.Name(), p, err, benchmsg.Equal(got, again))
				}
			}
			if decoded > 1 {
				t.Fatalf("%s: one input decoded as %d message types", c.Name(), decoded)
			}
		}
	})
}
