package thriftcodec_test

import (
	"testing"

	"rpcbench/codecs/codectest"
)

// FuzzUnmarshal decodes arbitrary bytes with both protocols into every
// benchmark message: it never panics, at most one message type accepts an
// input, and a decode that succeeds is faithful (codectest.DecodeEveryType).
// Run with: go test -fuzz FuzzUnmarshal ./codecs/thriftcodec
func FuzzUnmarshal(f *testing.F) {
	for _, c := range protocols {
		codectest.AddSeeds(f, c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range protocols {
			if n := len(codectest.DecodeEveryType(t, c, data)); n > 1 {
				t.Fatalf("%s: one input decoded as %d message types", c.Name(), n)
			}
		}
	})
}
