package codecs

import (
	"encoding/binary"
	"fmt"
	"math"

	"rpcbench/codecs/benchmsg"
)

// Binary is a hand-written compact encoding of the benchmark messages: no
// reflection, no field tags, fields in declaration order after a one-byte
// message kind. Integers are (zig-zag) varints, floats 8 bytes
// little-endian, strings and byte slices a uvarint length then the bytes,
// repeated fields and maps a uvarint count then the elements, an optional
// message a presence byte. It is the "what a specialised codec costs" floor
// of the comparison, and it knows only the types in package benchmsg.
//
// Marshal appends without allocating once dst has room. Unmarshal copies
// data into one string that every decoded string points into (one
// allocation instead of one per string; a retained string keeps the whole
// message's copy alive), and puts repeated messages in one backing array.
type Binary struct{}

func init() { Register(Binary{}) }

// Name implements Codec.
func (Binary) Name() string { return "binary" }

// ID implements Codec.
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
	minSmallLen  = 13 // four 1-byte varints/lengths, a bool, a float64
	minRecordLen = 15
)

// Marshal implements Codec.
func (Binary) Marshal(dst []byte, v any) ([]byte, error) {
	switch m := v.(type) {
	case *benchmsg.Small:
		if m != nil {
			return appendSmall(append(dst, binSmall), m), nil
		}
	case *benchmsg.Medium:
		if m != nil {
			return appendMedium(append(dst, binMedium), m)
		}
	case *benchmsg.Large:
		if m != nil {
			return appendLarge(append(dst, binLarge), m)
		}
	case *benchmsg.Blob:
		if m != nil {
			return appendBytes(append(dst, binBlob), m.Data), nil
		}
	}
	return dst, fmt.Errorf("codecs: binary codec cannot marshal %T (want a non-nil *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
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

func appendSmall(b []byte, m *benchmsg.Small) []byte {
	b = appendBytes(b, m.Name)
	b = binary.AppendVarint(b, m.Birthday)
	b = appendBytes(b, m.Phone)
	b = binary.AppendVarint(b, int64(m.Siblings))
	b = appendBool(b, m.Spouse)
	return appendFloat(b, m.Money)
}

func appendMedium(b []byte, m *benchmsg.Medium) ([]byte, error) {
	b = binary.AppendVarint(b, m.Id)
	b = appendBytes(b, m.Title)
	b = appendBool(b, m.Owner != nil)
	if m.Owner != nil {
		b = appendSmall(b, m.Owner)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Members)))
	for _, s := range m.Members {
		if s == nil {
			return b, fmt.Errorf("codecs: binary: Medium.Members has a nil element")
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

func appendLarge(b []byte, m *benchmsg.Large) ([]byte, error) {
	b = appendBytes(b, m.Source)
	b = binary.AppendVarint(b, m.Generated)
	b = binary.AppendUvarint(b, uint64(len(m.Records)))
	for _, r := range m.Records {
		if r == nil {
			return b, fmt.Errorf("codecs: binary: Large.Records has a nil element")
		}
		b = binary.AppendVarint(b, r.Id)
		b = binary.AppendUvarint(b, uint64(r.Kind))
		b = appendBytes(b, r.Key)
		b = appendBytes(b, r.Value)
		b = binary.AppendVarint(b, r.Created)
		b = appendFloat(b, r.Amount)
		b = binary.AppendUvarint(b, uint64(len(r.Flags)))
		for _, f := range r.Flags {
			b = binary.AppendVarint(b, int64(f))
		}
		b = appendBool(b, r.Deleted)
	}
	return b, nil
}

// Unmarshal implements Codec. It replaces every field of v.
func (Binary) Unmarshal(data []byte, v any) error {
	// The decoder stays on the stack as long as its methods are called
	// directly, so each case spells the call out.
	var d binDecoder
	var kind byte
	var err error
	switch m := v.(type) {
	case *benchmsg.Small:
		if d, kind, err = binStart(data, binSmall, m == nil, v); err == nil {
			d.small(m)
		}
	case *benchmsg.Medium:
		if d, kind, err = binStart(data, binMedium, m == nil, v); err == nil {
			d.medium(m)
		}
	case *benchmsg.Large:
		if d, kind, err = binStart(data, binLarge, m == nil, v); err == nil {
			d.large(m)
		}
	case *benchmsg.Blob:
		if d, kind, err = binStart(data, binBlob, m == nil, v); err == nil {
			d.blob(m)
		}
	default:
		return fmt.Errorf("codecs: binary codec cannot unmarshal into %T (want *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
	}
	if err != nil {
		return err
	}
	return d.finish(kind)
}

// binStart checks the target and the message kind and returns a decoder
// positioned after the kind byte.
func binStart(data []byte, kind byte, isNil bool, v any) (binDecoder, byte, error) {
	switch {
	case isNil:
		return binDecoder{}, kind, fmt.Errorf("codecs: binary: cannot unmarshal into a nil %T", v)
	case len(data) == 0:
		return binDecoder{}, kind, fmt.Errorf("codecs: binary: empty input")
	case data[0] != kind:
		return binDecoder{}, kind, fmt.Errorf("codecs: binary: input holds message kind %d, want %s (%d)", data[0], binKindNames[kind], kind)
	}
	return binDecoder{b: data, off: 1}, kind, nil
}

func (d *binDecoder) finish(kind byte) error {
	if d.bad {
		return fmt.Errorf("codecs: binary: malformed or truncated %s near byte %d of %d", binKindNames[kind], d.off, len(d.b))
	}
	if d.off != len(d.b) {
		return fmt.Errorf("codecs: binary: %d bytes after the end of a %s", len(d.b)-d.off, binKindNames[kind])
	}
	return nil
}

// binDecoder reads data front to back. After the first error it sets bad,
// stops consuming and returns zero values, so callers check once at the end.
type binDecoder struct {
	b     []byte
	s     string // copy of b made on the first string read
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

func (d *binDecoder) str() string {
	n := d.length()
	if d.s == "" {
		d.s = string(d.b) // one copy backs every string of the message
	}
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

func (d *binDecoder) float() float64 {
	if len(d.b)-d.off < 8 {
		d.fail()
		return 0
	}
	d.off += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off-8:]))
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

func (d *binDecoder) small(m *benchmsg.Small) {
	m.Name = d.str()
	m.Birthday = d.varint()
	m.Phone = d.str()
	m.Siblings = d.int32()
	m.Spouse = d.bool()
	m.Money = d.float()
}

func (d *binDecoder) medium(m *benchmsg.Medium) {
	m.Id = d.varint()
	m.Title = d.str()
	m.Owner = nil
	if d.bool() {
		m.Owner = new(benchmsg.Small)
		d.small(m.Owner)
	}
	m.Members = nil
	if n := d.count(minSmallLen); n > 0 {
		backing := make([]benchmsg.Small, n)
		m.Members = make([]*benchmsg.Small, n)
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

func (d *binDecoder) large(m *benchmsg.Large) {
	m.Source = d.str()
	m.Generated = d.varint()
	m.Records = nil
	if n := d.count(minRecordLen); n > 0 {
		backing := make([]benchmsg.Record, n)
		m.Records = make([]*benchmsg.Record, n)
		for i := range backing {
			d.record(&backing[i])
			m.Records[i] = &backing[i]
		}
	}
}

func (d *binDecoder) record(r *benchmsg.Record) {
	r.Id = d.varint()
	r.Kind = d.uint32()
	r.Key = d.str()
	r.Value = d.str()
	r.Created = d.varint()
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

func (d *binDecoder) blob(m *benchmsg.Blob) {
	m.Data = d.bytes()
}
