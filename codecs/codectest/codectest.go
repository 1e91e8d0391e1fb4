// Package codectest holds what the tests and fuzz targets of codecs for
// the benchmark messages share: payload helpers, a seed corpus, and the
// check that a decode of arbitrary bytes is an error or faithful.
package codectest

import (
	"testing"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

// Messages are the payload types every decode is tried against.
var Messages = []string{benchmsg.NameSmall, benchmsg.NameMedium, benchmsg.NameLarge, "Bytes:0"}

// New returns benchmsg.New(name, seed), failing t on error.
func New(t testing.TB, name string, seed int64) any {
	t.Helper()
	v, err := benchmsg.New(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Zero returns benchmsg.NewZero(name), failing t on error.
func Zero(t testing.TB, name string) any {
	t.Helper()
	v, err := benchmsg.NewZero(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// AddSeeds adds c's encodings of every benchmark message, for a few seeds,
// to f's corpus. Large is cut to three records: small seeds keep the
// fuzzer fast.
func AddSeeds(f *testing.F, c codecs.Codec) {
	for _, p := range []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:100"} {
		for seed := range int64(3) {
			v := New(f, p, seed)
			if l, ok := v.(*benchmsg.Large); ok {
				l.Records = l.Records[:3]
			}
			enc, err := c.Marshal(nil, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc)
		}
	}
}

// DecodeEveryType decodes data with c into every message type and returns
// the values that decoded. Each must be faithful: it encodes, and decodes
// back to an equal value; otherwise t fails.
func DecodeEveryType(t *testing.T, c codecs.Codec, data []byte) []any {
	t.Helper()
	var decoded []any
	for _, p := range Messages {
		got := Zero(t, p)
		if c.Unmarshal(data, got) != nil {
			continue
		}
		enc, err := c.Marshal(nil, got)
		if err != nil {
			t.Fatalf("%s: %s decoded but does not encode: %v", c.Name(), p, err)
		}
		again := Zero(t, p)
		if err := c.Unmarshal(enc, again); err != nil || !benchmsg.Equal(got, again) {
			t.Fatalf("%s: %s: second round trip: err %v, equal %v", c.Name(), p, err, benchmsg.Equal(got, again))
		}
		decoded = append(decoded, got)
	}
	return decoded
}
