package flatbuf_test

import (
	"encoding/binary"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/codectest"
	"rpcbench/codecs/flatbuf"
	"rpcbench/codecs/flatbuf/benchfb"
)

var payloads = []string{"Small", "Medium", "Large", "Bytes:0", "Bytes:1000"}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	enc, err := flatbuf.Codec{}.Marshal(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestReadInPlaceReadsEveryField checks that the in-place read folds what
// the buffer holds, and then that changing any one field of any message,
// nested ones included, changes what it returns: no field goes unread.
func TestReadInPlaceReadsEveryField(t *testing.T) {
	c := flatbuf.Codec{}
	for _, p := range payloads {
		v := codectest.New(t, p, 1)
		got, err := c.ReadInPlace(encode(t, v))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := flatbuf.Checksum(v)
		if got != want {
			t.Fatalf("%s: ReadInPlace %x, Checksum %x", p, got, want)
		}
		enc := encode(t, v)
		if allocs := testing.AllocsPerRun(10, func() { c.ReadInPlace(enc) }); allocs > 0 {
			t.Errorf("%s: ReadInPlace allocates %.0f times", p, allocs)
		}
		m := v.(proto.Message).ProtoReflect()
		for _, path := range fieldPaths(m) {
			changed := proto.Clone(m.Interface())
			path.change(changed.ProtoReflect())
			if benchmsg.Equal(changed, v) {
				t.Fatalf("%s: changing %s changed nothing", p, path)
			}
			sum, err := c.ReadInPlace(encode(t, changed))
			if err != nil {
				t.Fatal(err)
			}
			if sum == got {
				t.Errorf("%s: ReadInPlace does not see a change to %s", p, path)
			}
		}
	}
}

// fieldPath names one field to change: a top-level field, or a field of
// the first element of a nested message or list of messages.
type fieldPath struct {
	outer, inner protoreflect.FieldDescriptor // inner is nil for top-level fields
}

func (p fieldPath) String() string {
	if p.inner == nil {
		return string(p.outer.Name())
	}
	return string(p.outer.Name()) + "." + string(p.inner.Name())
}

func fieldPaths(m protoreflect.Message) []fieldPath {
	var out []fieldPath
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		out = append(out, fieldPath{outer: f})
		if f.Kind() == protoreflect.MessageKind && !f.IsMap() {
			inner := f.Message().Fields()
			for j := range inner.Len() {
				out = append(out, fieldPath{outer: f, inner: inner.Get(j)})
			}
		}
	}
	return out
}

func (p fieldPath) change(m protoreflect.Message) {
	if p.inner == nil {
		changeField(m, p.outer)
		return
	}
	var sub protoreflect.Message
	if p.outer.IsList() {
		sub = m.Get(p.outer).List().Get(0).Message()
	} else {
		sub = m.Mutable(p.outer).Message()
	}
	changeField(sub, p.inner)
}

// changeField alters f in m so that the new value differs in its length,
// first byte or number.
func changeField(m protoreflect.Message, f protoreflect.FieldDescriptor) {
	switch {
	case f.IsMap():
		m.Mutable(f).Map().Set(protoreflect.ValueOfString("new-key").MapKey(), protoreflect.ValueOfInt64(1))
	case f.IsList():
		l := m.Mutable(f).List()
		l.Append(l.NewElement())
	default:
		v := m.Get(f)
		switch f.Kind() {
		case protoreflect.StringKind:
			v = protoreflect.ValueOfString("~" + v.String())
		case protoreflect.BytesKind:
			v = protoreflect.ValueOfBytes(append([]byte{'~'}, v.Bytes()...))
		case protoreflect.BoolKind:
			v = protoreflect.ValueOfBool(!v.Bool())
		case protoreflect.DoubleKind:
			v = protoreflect.ValueOfFloat64(v.Float() + 1)
		case protoreflect.Int32Kind:
			v = protoreflect.ValueOfInt32(int32(v.Int()) + 1)
		case protoreflect.Uint32Kind:
			v = protoreflect.ValueOfUint32(uint32(v.Uint()) + 1)
		case protoreflect.Int64Kind:
			v = protoreflect.ValueOfInt64(v.Int() + 1)
		case protoreflect.MessageKind:
			m.Clear(f) // present to absent
			return
		}
		m.Set(f, v)
	}
}

// TestRefusesWhatItCannotDecodeFaithfully: another message type, a
// truncated or extended buffer, and malformed content are errors, and a
// failed decode leaves no half-filled value claimed as good.
func TestRefusesWhatItCannotDecodeFaithfully(t *testing.T) {
	c := flatbuf.Codec{}
	small, medium := encode(t, codectest.New(t, "Small", 1)), encode(t, codectest.New(t, "Medium", 1))
	cases := []struct {
		name, into string
		data       []byte
		want       string
	}{
		{"Medium as Small", "Small", medium, "identifier"},
		{"Small as Blob", "Bytes:0", small, "identifier"},
		{"truncated", "Small", small[:len(small)-1], "size prefix"},
		{"extended", "Small", append(append([]byte(nil), small...), 0, 0, 0, 0), "size prefix"},
		{"empty", "Small", nil, "too short"},
		{"bad bool", "Small", badBool(t), "bool"},
		{"unsorted keys", "Medium", counters(t, "b", "a"), "out of order"},
		{"repeated key", "Medium", counters(t, "a", "a"), "out of order"},
		{"shared child bomb", "Large", sharedRecords(t, 2000), "more bytes than the buffer"},
		{"offset past the end", "Small", pointPastEnd(small), "past the end"},
	}
	for _, tc := range cases {
		err := c.Unmarshal(tc.data, codectest.Zero(t, tc.into))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Unmarshal error %v, want one about %q", tc.name, err, tc.want)
		}
		if _, err := c.ReadInPlace(tc.data); err == nil && !strings.HasPrefix(tc.name, "Medium as") && !strings.HasPrefix(tc.name, "Small as") {
			t.Errorf("%s: ReadInPlace accepted it", tc.name)
		}
	}
}

// finish wraps a root table the way the codec does.
func finish(b *flatbuffers.Builder, root flatbuffers.UOffsetT, id string) []byte {
	b.FinishSizePrefixedWithFileIdentifier(root, []byte(id))
	return b.FinishedBytes()
}

// badBool stores 2 in Small.spouse, which the generated reader would
// take for true.
func badBool(t *testing.T) []byte {
	b := flatbuffers.NewBuilder(0)
	benchfb.SmallStart(b)
	benchfb.SmallAddSpouse(b, true)
	enc := finish(b, benchfb.SmallEnd(b), "RBSM")
	var s benchfb.Small
	flatbuffers.GetSizePrefixedRootAs(enc, 0, &s)
	tab := s.Table()
	o := tab.Offset(4 + 2*4) // spouse is field 4
	if o == 0 {
		t.Fatal("no spouse field")
	}
	enc[tab.Pos+flatbuffers.UOffsetT(o)] = 2
	return enc
}

func counters(t *testing.T, keys ...string) []byte {
	b := flatbuffers.NewBuilder(0)
	var offs []flatbuffers.UOffsetT
	for _, k := range keys {
		key := b.CreateString(k)
		benchfb.CounterStart(b)
		benchfb.CounterAddKey(b, key)
		offs = append(offs, benchfb.CounterEnd(b))
	}
	vec := b.CreateVectorOfTables(offs)
	benchfb.MediumStart(b)
	benchfb.MediumAddCounters(b, vec)
	return finish(b, benchfb.MediumEnd(b), "RBMD")
}

// sharedRecords points n entries of Large.records at one Record with 500
// flags: a 4 KB buffer that would decode to n×500 flags.
func sharedRecords(t *testing.T, n int) []byte {
	b := flatbuffers.NewBuilder(0)
	benchfb.RecordStartFlagsVector(b, 500)
	for range 500 {
		b.PrependInt32(7)
	}
	flags := b.EndVector(500)
	benchfb.RecordStart(b)
	benchfb.RecordAddFlags(b, flags)
	rec := benchfb.RecordEnd(b)
	offs := make([]flatbuffers.UOffsetT, n)
	for i := range offs {
		offs[i] = rec
	}
	vec := b.CreateVectorOfTables(offs)
	benchfb.LargeStart(b)
	benchfb.LargeAddRecords(b, vec)
	return finish(b, benchfb.LargeEnd(b), "RBLG")
}

// pointPastEnd makes the root offset point outside the buffer.
func pointPastEnd(enc []byte) []byte {
	bad := append([]byte(nil), enc...)
	binary.LittleEndian.PutUint32(bad[4:], uint32(len(bad)))
	return bad
}
