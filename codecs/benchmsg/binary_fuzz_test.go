package benchmsg_test

import (
	"testing"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/codectest"
)

// FuzzBinaryUnmarshal: any input either fails to decode or decodes to a
// value that survives another round trip; it never panics.
// Run with: go test -fuzz FuzzBinaryUnmarshal ./codecs/benchmsg
func FuzzBinaryUnmarshal(f *testing.F) {
	c := benchmsg.Binary{}
	codectest.AddSeeds(f, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		codectest.DecodeEveryType(t, c, data)
	})
}
