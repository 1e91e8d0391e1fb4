package benchmsg_test

import (
	"testing"

	"rpcbench/codecs/benchmsg"
)

// FuzzBinaryUnmarshal: any input either fails to decode or decodes to a
// value that survives another round trip; it never panics.
// Run with: go test -fuzz FuzzBinaryUnmarshal ./codecs/benchmsg
func FuzzBinaryUnmarshal(f *testing.F) {
	c := benchmsg.Binary{}
	for _, p := range []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:100"} {
		for seed := range int64(3) {
			v, _ := benchmsg.New(p, seed)
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
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []string{"Small", "Medium", "Large", "Bytes:0"} {
			got, _ := benchmsg.NewZero(p)
			if c.Unmarshal(data, got) != nil {
				continue
			}
			enc, err := c.Marshal(nil, got)
			if err != nil {
				t.Fatalf("%s decoded but does not encode: %v", p, err)
			}
			again, _ := benchmsg.NewZero(p)
			if err := c.Unmarshal(enc, again); err != nil || !benchmsg.Equal(got, again) {
				t.Fatalf("%s: second round trip: err %v, equal %v", p, err, benchmsg.Equal(got, again))
			}
		}
	})
}
