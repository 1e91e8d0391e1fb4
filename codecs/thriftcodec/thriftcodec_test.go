package thriftcodec_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"rpcbench/codecs/codectest"
	"rpcbench/codecs/thriftcodec"
	"rpcbench/codecs/thriftcodec/benchthrift"
)

var protocols = []*thriftcodec.Codec{thriftcodec.Binary, thriftcodec.Compact}

// write encodes fields with a bare protocol of c's kind, so tests can
// build what the generated code never writes.
func write(t *testing.T, c *thriftcodec.Codec, fields func(ctx context.Context, p thrift.TProtocol) error) []byte {
	t.Helper()
	mem := thrift.NewTMemoryBuffer()
	var p thrift.TProtocol = thrift.NewTBinaryProtocolConf(mem, nil)
	if c == thriftcodec.Compact {
		p = thrift.NewTCompactProtocolConf(mem, nil)
	}
	if err := fields(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return mem.Bytes()
}

// message writes a Message struct whose members are the given fields.
func message(members func(ctx context.Context, p thrift.TProtocol) error) func(context.Context, thrift.TProtocol) error {
	return func(ctx context.Context, p thrift.TProtocol) error {
		p.WriteStructBegin(ctx, "Message")
		if err := members(ctx, p); err != nil {
			return err
		}
		p.WriteFieldStop(ctx)
		return p.WriteStructEnd(ctx)
	}
}

// TestRefusesWhatItCannotDecodeFaithfully: a message of another type, a
// struct missing a field or carrying one with the wrong wire type, two
// members, trailing and truncated bytes, and absurd counts are errors.
func TestRefusesWhatItCannotDecodeFaithfully(t *testing.T) {
	for _, c := range protocols {
		small, err := c.Marshal(nil, codectest.New(t, "Small", 1))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, into string
			data       []byte
			want       string
		}{
			{"Small as Blob", "Bytes:0", small, "holds a Small"},
			{"Small as Medium", "Medium", small, "holds a Small"},
			{"trailing byte", "Small", append(append([]byte(nil), small...), 0), "after the end"},
			{"truncated", "Small", small[:len(small)-1], "EOF"},
			{"empty", "Small", nil, "EOF"},
			{"missing field", "Small", write(t, c, message(func(ctx context.Context, p thrift.TProtocol) error {
				p.WriteFieldBegin(ctx, "small", thrift.STRUCT, 1)
				p.WriteStructBegin(ctx, "Small")
				p.WriteFieldBegin(ctx, "name", thrift.STRING, 1)
				p.WriteString(ctx, "n")
				p.WriteFieldStop(ctx)
				return p.WriteStructEnd(ctx)
			})), "Required field Birthday"},
			{"wrong wire type", "Small", write(t, c, message(func(ctx context.Context, p thrift.TProtocol) error {
				p.WriteFieldBegin(ctx, "small", thrift.STRUCT, 1)
				s := benchthrift.Small{Name: "n"}
				return writeSwapped(ctx, p, &s)
			})), "Required field Birthday"},
			{"two members", "Small", write(t, c, message(func(ctx context.Context, p thrift.TProtocol) error {
				p.WriteFieldBegin(ctx, "small", thrift.STRUCT, 1)
				(&benchthrift.Small{}).Write(ctx, p)
				p.WriteFieldBegin(ctx, "blob", thrift.STRUCT, 4)
				return (&benchthrift.Blob{}).Write(ctx, p)
			})), "2 members"},
			{"no member", "Small", write(t, c, message(func(context.Context, thrift.TProtocol) error { return nil })), "0 members"},
			{"absurd count", "Medium", write(t, c, message(func(ctx context.Context, p thrift.TProtocol) error {
				p.WriteFieldBegin(ctx, "medium", thrift.STRUCT, 2)
				p.WriteStructBegin(ctx, "Medium")
				p.WriteFieldBegin(ctx, "members", thrift.LIST, 4)
				return p.WriteListBegin(ctx, thrift.STRUCT, 1<<30)
			})), "needs at least"},
		}
		for _, tc := range cases {
			err := c.Unmarshal(tc.data, codectest.Zero(t, tc.into))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %s: Unmarshal error %v, want one about %q", c.Name(), tc.name, err, tc.want)
			}
		}
	}
}

// writeSwapped writes s with its birthday field carrying a string, which
// Thrift's generated reader skips.
func writeSwapped(ctx context.Context, p thrift.TProtocol, s *benchthrift.Small) error {
	p.WriteStructBegin(ctx, "Small")
	p.WriteFieldBegin(ctx, "name", thrift.STRING, 1)
	p.WriteString(ctx, s.Name)
	p.WriteFieldBegin(ctx, "birthday", thrift.STRING, 2)
	p.WriteString(ctx, "yesterday")
	p.WriteFieldBegin(ctx, "phone", thrift.STRING, 3)
	p.WriteString(ctx, s.Phone)
	p.WriteFieldBegin(ctx, "siblings", thrift.I32, 4)
	p.WriteI32(ctx, s.Siblings)
	p.WriteFieldBegin(ctx, "spouse", thrift.BOOL, 5)
	p.WriteBool(ctx, s.Spouse)
	p.WriteFieldBegin(ctx, "money", thrift.DOUBLE, 6)
	p.WriteDouble(ctx, s.Money)
	p.WriteFieldStop(ctx)
	return p.WriteStructEnd(ctx)
}

// TestProtocolsDiffer guards against both codecs quietly using one
// protocol: the compact encoding of Medium is markedly smaller.
func TestProtocolsDiffer(t *testing.T) {
	v := codectest.New(t, "Medium", 1)
	bin, err := thriftcodec.Binary.Marshal(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := thriftcodec.Compact.Marshal(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(comp) >= len(bin)*9/10 {
		t.Errorf("compact %d bytes, binary %d: expected compact well below binary", len(comp), len(bin))
	}
	for _, c := range protocols {
		other := thriftcodec.Binary
		enc := comp
		if c == thriftcodec.Binary {
			other, enc = thriftcodec.Compact, bin
		}
		if err := other.Unmarshal(enc, codectest.Zero(t, "Medium")); err == nil {
			t.Errorf("%s decoded %s's encoding", other.Name(), c.Name())
		}
	}
}
