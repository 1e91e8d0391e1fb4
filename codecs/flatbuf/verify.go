package flatbuf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The verifier walks a buffer against a description of the schema, as
// FlatBuffers' C++ Verifier does with generated code: every table's
// vtable, every field inside its table, every offset, vector and string
// (with its terminator) inside the buffer, bools 0 or 1, and the Counter
// vectors sorted by key without duplicates, as the (key) attribute
// requires (a duplicate would be lost in the map). Only then do the
// generated readers, which index the buffer unchecked, touch it.
//
// A reference may point anywhere, so a hostile buffer could make many
// references share one large child and expand into far more values than
// its size; references may therefore cover at most len(buffer) bytes in
// all (tables' inline bytes, vectors' elements, strings' bytes; shared
// vtables are not counted). Buffers this package writes share nothing and
// pass; the limit bounds what a decode can allocate to a small multiple
// of the input.

type fieldKind uint8

const (
	kScalar  fieldKind = iota // size-byte number
	kBool                     // one byte, 0 or 1
	kString                   // offset to a string
	kTable                    // offset to a sub table
	kScalars                  // offset to a vector of size-byte numbers
	kStrings                  // offset to a vector of strings
	kTables                   // offset to a vector of sub tables
)

// field describes one field of a table, in schema order (slot 4+2i).
type field struct {
	kind        fieldKind
	size        int        // scalar or vector element size
	sub         *tableDesc // kTable, kTables
	sortedByKey bool       // kTables whose first field is a (key) string
}

type tableDesc struct {
	name   string
	fields []field
}

func num(size int) field                    { return field{kind: kScalar, size: size} }
func vecOf(size int) field                  { return field{kind: kScalars, size: size} }
func tableOf(d *tableDesc) field            { return field{kind: kTable, sub: d} }
func tablesOf(d *tableDesc, key bool) field { return field{kind: kTables, sub: d, sortedByKey: key} }

var (
	fBool    = field{kind: kBool}
	fString  = field{kind: kString}
	fStrings = field{kind: kStrings}
)

// The tables of benchmsg.fbs, field by field.
var (
	smallTable   = &tableDesc{"Small", []field{fString, num(8), fString, num(4), fBool, num(8)}}
	counterTable = &tableDesc{"Counter", []field{fString, num(8)}}
	mediumTable  = &tableDesc{"Medium", []field{num(8), fString, tableOf(smallTable), tablesOf(smallTable, false),
		fStrings, vecOf(8), tablesOf(counterTable, true), num(8), fBool}}
	recordTable = &tableDesc{"Record", []field{num(8), num(4), fString, fString, num(8), num(8), vecOf(4), fBool}}
	largeTable  = &tableDesc{"Large", []field{fString, num(8), tablesOf(recordTable, false)}}
	blobTable   = &tableDesc{"Blob", []field{vecOf(1)}}
)

// Smallest buffer: size prefix, root offset, file identifier.
const headerLen = 12

// verify checks data and returns the root table, positioned in data
// without its size prefix.
func verify(data []byte, id string, root *tableDesc) (flatbuffers.Table, error) {
	switch {
	case len(data) < headerLen:
		return flatbuffers.Table{}, fmt.Errorf("flatbuffers: %d bytes is too short for a %s buffer", len(data), root.name)
	case len(data) > math.MaxInt32:
		return flatbuffers.Table{}, fmt.Errorf("flatbuffers: %d bytes is over the 2 GiB format limit", len(data))
	}
	if size := binary.LittleEndian.Uint32(data); uint64(size) != uint64(len(data)-4) {
		return flatbuffers.Table{}, fmt.Errorf("flatbuffers: size prefix says %d bytes but %d follow", size, len(data)-4)
	}
	b := data[4:]
	if got := b[4:8]; string(got) != id {
		return flatbuffers.Table{}, fmt.Errorf("flatbuffers: buffer has identifier %q, want %q (%s)", got, id, root.name)
	}
	v := verifier{b: b, budget: len(b)}
	pos, ok := v.ref(0)
	if ok {
		ok = v.table(pos, root)
	}
	if !ok {
		return flatbuffers.Table{}, fmt.Errorf("flatbuffers: malformed %s buffer: %s", root.name, v.why)
	}
	return flatbuffers.Table{Bytes: b, Pos: flatbuffers.UOffsetT(pos)}, nil
}

type verifier struct {
	b      []byte
	budget int    // bytes that references may still cover
	why    string // the first failure
}

func (v *verifier) fail(format string, args ...any) bool {
	if v.why == "" {
		v.why = fmt.Sprintf(format, args...)
	}
	return false
}

func (v *verifier) spend(n uint64) bool {
	if n > uint64(v.budget) {
		return v.fail("references cover more bytes than the buffer holds")
	}
	v.budget -= int(n)
	return true
}

// ref follows the unsigned offset stored at at (which the caller has
// checked holds 4 bytes) and returns where it points, inside the buffer.
func (v *verifier) ref(at int) (int, bool) {
	u := binary.LittleEndian.Uint32(v.b[at:])
	if uint64(u) > uint64(len(v.b)-at-4) {
		return 0, v.fail("offset %d at byte %d points past the end", u, at)
	}
	return at + int(u), true
}

// vector checks the vector whose offset is stored at at and returns the
// position of its first element and its length.
func (v *verifier) vector(at, elemSize int) (start, n int, ok bool) {
	p, ok := v.ref(at)
	if !ok {
		return 0, 0, false
	}
	count := uint64(binary.LittleEndian.Uint32(v.b[p:]))
	if count*uint64(elemSize) > uint64(len(v.b)-p-4) {
		return 0, 0, v.fail("vector of %d at byte %d overruns the buffer", count, p)
	}
	return p + 4, int(count), v.spend(count * uint64(elemSize))
}

func (v *verifier) str(at int) bool {
	start, n, ok := v.vector(at, 1)
	if ok && (start+n >= len(v.b) || v.b[start+n] != 0) {
		return v.fail("string at byte %d lacks its terminator", start-4)
	}
	return ok
}

func (v *verifier) table(pos int, d *tableDesc) bool {
	b := v.b
	if pos > len(b)-4 {
		return v.fail("%s table at byte %d overruns the buffer", d.name, pos)
	}
	vt := pos - int(int32(binary.LittleEndian.Uint32(b[pos:])))
	if vt < 0 || vt > len(b)-4 {
		return v.fail("%s vtable at byte %d is outside the buffer", d.name, vt)
	}
	vtLen, tabLen := int(binary.LittleEndian.Uint16(b[vt:])), int(binary.LittleEndian.Uint16(b[vt+2:]))
	if vtLen < 4 || vtLen&1 != 0 || vtLen > len(b)-vt || tabLen < 4 || tabLen > len(b)-pos {
		return v.fail("%s table at byte %d has a bad vtable (%d bytes, table %d bytes)", d.name, pos, vtLen, tabLen)
	}
	if !v.spend(uint64(tabLen)) {
		return false
	}
	for i := range d.fields {
		slot := 4 + 2*i
		if slot >= vtLen {
			break // fields past the vtable are absent
		}
		off := int(binary.LittleEndian.Uint16(b[vt+slot:]))
		if off == 0 {
			continue
		}
		f := &d.fields[i]
		size := 4 // an offset
		switch f.kind {
		case kScalar:
			size = f.size
		case kBool:
			size = 1
		}
		if off+size > tabLen {
			return v.fail("%s field %d at offset %d overruns its %d-byte table", d.name, i, off, tabLen)
		}
		if !v.field(pos+off, f) {
			return false
		}
	}
	return true
}

// field checks the value of f stored at at, inside its table.
func (v *verifier) field(at int, f *field) bool {
	switch f.kind {
	case kBool:
		if v.b[at] > 1 {
			return v.fail("bool at byte %d is %d", at, v.b[at])
		}
	case kString:
		return v.str(at)
	case kTable:
		p, ok := v.ref(at)
		return ok && v.table(p, f.sub)
	case kScalars:
		_, _, ok := v.vector(at, f.size)
		return ok
	case kStrings:
		start, n, ok := v.vector(at, 4)
		for j := 0; ok && j < n; j++ {
			ok = v.str(start + 4*j)
		}
		return ok
	case kTables:
		start, n, ok := v.vector(at, 4)
		var prev []byte
		for j := 0; ok && j < n; j++ {
			var p int
			if p, ok = v.ref(start + 4*j); ok {
				ok = v.table(p, f.sub)
			}
			if ok && f.sortedByKey {
				key := keyOf(v.b, p)
				if j > 0 && bytes.Compare(prev, key) >= 0 {
					return v.fail("%s keys at byte %d are out of order or repeated", f.sub.name, p)
				}
				prev = key
			}
		}
		return ok
	}
	return true
}

// keyOf returns the first field, a string, of the verified table at pos.
func keyOf(b []byte, pos int) []byte {
	t := flatbuffers.Table{Bytes: b, Pos: flatbuffers.UOffsetT(pos)}
	if o := t.Offset(4); o != 0 {
		return t.ByteVector(flatbuffers.UOffsetT(o) + t.Pos)
	}
	return nil
}
