package benchmsg

import (
	"encoding/binary"
	"fmt"
	"math"

	"rpcbench/codecs"
)

// Binary is a hand-written compact encoding of the benchmark messages: no
// reflection and no field tags. A one-byte message kind comes first, then
// the fields in declaration order, except that Small puts its fixed-width
// fields first and its two strings last, side by side. Integers are
// (zig-zag) varints; floats and timestamps 8 bytes little-endian; strings
// and byte slices a uvarint length then the bytes; repeated fields and
// maps a uvarint count then the elements; an optional message a presence
// byte. It is the "what a specialised codec costs" floor of the
// comparison, and it knows only this package's types, which is why it
// lives here and registers itself with package codecs when this package is
// linked (as "binary", codec ID 3).
//
// Marshal appends without allocating once dst has room. Unmarshal never
// points into data: a Small copies its two strings in one allocation;
// Medium and Large copy data once into a string that all their strings
// point into (one allocation instead of hundreds, though a retained string
// keeps the whole copy alive), and put repeated messages in one backing
// array. Every count is checked against the bytes left before anything is
// allocated.
type Binary struct{}

var _ codecs.Codec = Binary{}

func init() { codecs.Register(Binary{}) }

// Name implements codecs.Codec.
func (Binary) Name() string { return "binary" }

// ID implements codecs.Codec.
func (Binary) ID() uint8 { return 3 }

// The first byte of an encoding says which message follows.
const (
	binSmall byte = 1 + iota
	binMedium
	binLarge
	binBlob
)

var binKindNames = [...]string{binSmall: "Small", binMedium: "Medium", binLarge: "Large", binBlob: "Blob"}

// Smallest encodings of one element, used to bound counts before allocating.
const (
	minSmallLen  = 20 // two 8-byte fields, a 1-byte varint, a bool, two 1-byte lengths
	minRecordLen = 22
)

// Marshal implements codecs.Codec.
func (Binary) Marshal(dst []byte, v any) ([]byte, error) {
	switch m := v.(type) {
	case *Small:
		if m != nil {
			return appendSmall(append(dst, binSmall), m), nil
		}
	case *Medium:
		if m != nil {
			return appendMedium(append(dst, binMedium), m)
		}
	case *Large:
		if m != nil {
			return appendLarge(append(dst, binLarge), m)
		}
	case *Blob:
		if m != nil {
			return appendBytes(append(dst, binBlob), m.Data), nil
		}
	}
	return dst, fmt.Errorf("benchmsg: binary codec cannot marshal %T (want a non-nil *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
}

func appendBytes[S string | []byte](b []byte, s S) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// appendFixed writes a timestamp in 8 bytes: nanosecond times need 9 as
// varints, and fixed width is quicker to read.
func appendFixed(b []byte, v int64) []byte {
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

// appendSmall puts the fixed-width fields first and both strings last,
// side by side, so a decoder copies them with one conversion.
func appendSmall(b []byte, m *Small) []byte {
	b = appendFixed(b, m.Birthday)
	b = appendFloat(b, m.Money)
	b = binary.AppendVarint(b, int64(m.Siblings))
	b = appendBool(b, m.Spouse)
	b = binary.AppendUvarint(b, uint64(len(m.Name)))
	b = binary.AppendUvarint(b, uint64(len(m.Phone)))
	return append(append(b, m.Name...), m.Phone...)
}

func appendMedium(b []byte, m *Medium) ([]byte, error) {
	b = binary.AppendVarint(b, m.Id)
	b = appendBytes(b, m.Title)
	b = appendBool(b, m.Owner != nil)
	if m.Owner != nil {
		b = appendSmall(b, m.Owner)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Members)))
	for _, s := range m.Members {
		if s == nil {
			return b, fmt.Errorf("benchmsg: binary: Medium.Members has a nil element")
		}
		b = appendSmall(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Tags)))
	for _, t := range m.Tags {
		b = appendBytes(b, t)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Scores)))
	for _, s := range m.Scores {
		b = binary.AppendVarint(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Counters)))
	for k, v := range m.Counters {
		b = binary.AppendVarint(appendBytes(b, k), v)
	}
	return appendBool(appendFloat(b, m.Ratio), m.Active), nil
}

func appendLarge(b []byte, m *Large) ([]byte, error) {
	b = appendBytes(b, m.Source)
	b = appendFixed(b, m.Generated)
	b = binary.AppendUvarint(b, uint64(len(m.Records)))
	for _, r := range m.Records {
		if r == nil {
			return b, fmt.Errorf("benchmsg: binary: Large.Records has a nil element")
		}
		b = binary.AppendVarint(b, r.Id)
		b = binary.AppendUvarint(b, uint64(r.Kind))
		b = appendBytes(b, r.Key)
		b = appendBytes(b, r.Value)
		b = appendFixed(b, r.Created)
		b = appendFloat(b, r.Amount)
		b = binary.AppendUvarint(b, uint64(len(r.Flags)))
		for _, f := range r.Flags {
			b = binary.AppendVarint(b, int64(f))
		}
		b = appendBool(b, r.Deleted)
	}
	return b, nil
}

// Unmarshal implements codecs.Codec. It replaces every field of v.
func (Binary) Unmarshal(data []byte, v any) error {
	// The decoder stays on the stack as long as its methods are called
	// directly, so each case spells the call out.
	var d binDecoder
	var kind byte
	var err error
	switch m := v.(type) {
	case *Small:
		if kind, err = binSmall, d.start(data, binSmall, m == nil, v); err == nil {
			d.small(m)
		}
	case *Medium:
		if kind, err = binMedium, d.start(data, binMedium, m == nil, v); err == nil {
			d.medium(m)
		}
	case *Large:
		if kind, err = binLarge, d.start(data, binLarge, m == nil, v); err == nil {
			d.large(m)
		}
	case *Blob:
		if kind, err = binBlob, d.start(data, binBlob, m == nil, v); err == nil {
			d.blob(m)
		}
	default:
		return fmt.Errorf("benchmsg: binary codec cannot unmarshal into %T (want *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
	}
	if err != nil {
		return err
	}
	return d.finish(kind)
}

// start checks the target and the message kind and positions d after
// the kind byte.
func (d *binDecoder) start(data []byte, kind byte, isNil bool, v any) error {
	switch {
	case isNil:
		return fmt.Errorf("benchmsg: binary: cannot unmarshal into a nil %T", v)
	case len(data) == 0:
		return fmt.Errorf("benchmsg: binary: empty input")
	case data[0] != kind:
		return fmt.Errorf("benchmsg: binary: input holds message kind %d, want %s (%d)", data[0], binKindNames[kind], kind)
	}
	d.b, d.off = data, 1
	return nil
}

func (d *binDecoder) finish(kind byte) error {
	if d.bad {
		return fmt.Errorf("benchmsg: binary: malformed or truncated %s near byte %d of %d", binKindNames[kind], d.off, len(d.b))
	}
	if d.off != len(d.b) {
		return fmt.Errorf("benchmsg: binary: %d bytes after the end of a %s", len(d.b)-d.off, binKindNames[kind])
	}
	return nil
}

// binDecoder reads data front to back. After the first error it sets bad,
// stops consuming and returns zero values, so callers check once at the end.
type binDecoder struct {
	b     []byte
	s     string // copy of b, made by messages with many strings
	off   int
	bad   bool
	flags []int32 // chunk that Record.Flags slices are carved from
}

func (d *binDecoder) fail() {
	d.bad = true
	d.off = len(d.b)
}

// uvarint has a one-byte fast path small enough to be inlined: most
// lengths and counts are below 128.
func (d *binDecoder) uvarint() uint64 {
	if d.off < len(d.b) {
		if c := d.b[d.off]; c < 0x80 {
			d.off++
			return uint64(c)
		}
	}
	return d.uvarintSlow()
}

func (d *binDecoder) uvarintSlow() uint64 {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.off += n
	return v
}

// varint undoes binary.AppendVarint's zig-zag encoding.
func (d *binDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *binDecoder) int32() int32 {
	v := d.varint()
	if v != int64(int32(v)) {
		d.fail()
	}
	return int32(v)
}

func (d *binDecoder) uint32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail()
	}
	return uint32(v)
}

// length reads a byte length and checks it against what is left.
func (d *binDecoder) length() int {
	if n := d.uvarint(); n <= uint64(len(d.b)-d.off) {
		return int(n)
	}
	d.fail()
	return 0
}

// str returns the next string, cut from d.s, the one copy of the whole
// input that Medium and Large decodes make up front.
func (d *binDecoder) str() string {
	n := d.length()
	d.off += n
	return d.s[d.off-n : d.off]
}

func (d *binDecoder) bytes() []byte {
	n := d.length()
	if n == 0 {
		return nil
	}
	d.off += n
	return append([]byte(nil), d.b[d.off-n:d.off]...)
}

// count reads an element count and checks that the elements, each at least
// minLen bytes, fit in what is left, so garbage cannot cause a big allocation.
func (d *binDecoder) count(minLen int) int {
	n := d.uvarint()
	if n > uint64((len(d.b)-d.off)/minLen) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *binDecoder) float() float64 { return math.Float64frombits(d.uint64()) }

func (d *binDecoder) fixed() int64 { return int64(d.uint64()) }

func (d *binDecoder) uint64() uint64 {
	if len(d.b)-d.off < 8 {
		d.fail()
		return 0
	}
	d.off += 8
	return binary.LittleEndian.Uint64(d.b[d.off-8:])
}

func (d *binDecoder) bool() bool {
	if d.off >= len(d.b) || d.b[d.off] > 1 {
		d.fail()
		return false
	}
	d.off++
	return d.b[d.off-1] == 1
}

// The decoders below set every exported field, so nothing of a previous
// value survives; field by field rather than a whole-struct assignment,
// which would copy the generated bookkeeping under write barriers. (The
// protobuf-only unknown fields are left alone.)

func (d *binDecoder) small(m *Small) {
	m.Birthday = d.fixed()
	m.Money = d.float()
	m.Siblings = d.int32()
	m.Spouse = d.bool()
	nameLen, phoneLen := d.uvarint(), d.uvarint()
	if rest := uint64(len(d.b) - d.off); nameLen > rest || phoneLen > rest-nameLen {
		d.fail()
		m.Name, m.Phone = "", ""
		return
	}
	end := d.off + int(nameLen+phoneLen)
	var both string
	if d.s != "" {
		both = d.s[d.off:end]
	} else {
		both = string(d.b[d.off:end]) // a Small on its own: one small copy
	}
	d.off = end
	m.Name, m.Phone = both[:nameLen], both[nameLen:]
}

func (d *binDecoder) medium(m *Medium) {
	d.s = string(d.b) // one copy backs every string of the message
	m.Id = d.varint()
	m.Title = d.str()
	m.Owner = nil
	if d.bool() {
		m.Owner = new(Small)
		d.small(m.Owner)
	}
	m.Members = nil
	if n := d.count(minSmallLen); n > 0 {
		backing := make([]Small, n)
		m.Members = make([]*Small, n)
		for i := range backing {
			d.small(&backing[i])
			m.Members[i] = &backing[i]
		}
	}
	m.Tags = nil
	if n := d.count(1); n > 0 {
		m.Tags = make([]string, n)
		for i := range m.Tags {
			m.Tags[i] = d.str()
		}
	}
	m.Scores = nil
	if n := d.count(1); n > 0 {
		m.Scores = make([]int64, n)
		for i := range m.Scores {
			m.Scores[i] = d.varint()
		}
	}
	m.Counters = nil
	if n := d.count(2); n > 0 {
		m.Counters = make(map[string]int64, n)
		for range n {
			k := d.str()
			m.Counters[k] = d.varint()
		}
	}
	m.Ratio = d.float()
	m.Active = d.bool()
}

func (d *binDecoder) large(m *Large) {
	d.s = string(d.b) // one copy backs every string of the message
	m.Source = d.str()
	m.Generated = d.fixed()
	m.Records = nil
	if n := d.count(minRecordLen); n > 0 {
		backing := make([]Record, n)
		m.Records = make([]*Record, n)
		for i := range backing {
			d.record(&backing[i])
			m.Records[i] = &backing[i]
		}
	}
}

func (d *binDecoder) record(r *Record) {
	r.Id = d.varint()
	r.Kind = d.uint32()
	r.Key = d.str()
	r.Value = d.str()
	r.Created = d.fixed()
	r.Amount = d.float()
	r.Flags = nil
	if n := d.count(1); n > 0 {
		r.Flags = d.carveFlags(n)
		for i := range r.Flags {
			r.Flags[i] = d.int32()
		}
	}
	r.Deleted = d.bool()
}

// carveFlags returns n int32s cut from a shared chunk (capacity clipped, so
// appending to one record's flags never touches the next), turning one
// allocation per record into one per few hundred.
func (d *binDecoder) carveFlags(n int) []int32 {
	if cap(d.flags)-len(d.flags) < n {
		d.flags = make([]int32, 0, max(n, min(512, len(d.b)-d.off)))
	}
	i := len(d.flags)
	d.flags = d.flags[:i+n]
	return d.flags[i : i+n : i+n]
}

func (d *binDecoder) blob(m *Blob) {
	m.Data = d.bytes()
}
