package codecs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Msgpack is github.com/vmihailenco/msgpack/v5 with structs encoded as
// arrays (field values in declaration order, no field names): smaller and
// faster, at the price that both sides must agree on field order, which
// they do for generated types. Decoding also takes a struct as a map keyed
// by its json names ({"a":1,"b":2}), which is what msgpack libraries in
// other languages send; an unknown key, an array of the wrong length, and
// a nil or empty array where a message was expected are errors.
//
// Before decoding, the input is walked once (checkMsgpack) because v5.4.1
// preallocates slices from the count in the data: a 5-byte array header
// could otherwise ask for billions of elements.
type Msgpack struct{}

func init() { Register(Msgpack{}) }

var (
	msgpackEncoders = newEncoderPool(func(w *sliceWriter) *msgpack.Encoder {
		enc := msgpack.NewEncoder(w)
		enc.UseArrayEncodedStructs(true)
		enc.SetCustomStructTag("json") // the decoder's field list, so arrays match
		return enc
	})
	msgpackDecoders = sync.Pool{New: func() any {
		d := &msgpackDecoder{dec: msgpack.NewDecoder(nil)}
		d.dec.UsePreallocateValues(true) // as msgpack.Unmarshal does
		d.dec.SetCustomStructTag("json")
		d.dec.DisallowUnknownFields(true)
		return d
	}}
)

type msgpackDecoder struct {
	r   bytes.Reader // an io.ByteScanner, so the decoder adds no buffering
	dec *msgpack.Decoder
}

// Name implements Codec.
func (Msgpack) Name() string { return "msgpack" }

// ID implements Codec.
func (Msgpack) ID() uint8 { return 7 }

// Describe implements Describer.
func (Msgpack) Describe() string {
	return moduleVersion("github.com/vmihailenco/msgpack/v5") + " (structs as arrays)"
}

// Marshal implements Codec.
func (Msgpack) Marshal(dst []byte, v any) ([]byte, error) {
	return msgpackEncoders.encode(dst, func(enc *msgpack.Encoder) error { return enc.Encode(v) })
}

// Unmarshal implements Codec.
func (Msgpack) Unmarshal(data []byte, v any) error {
	if err := checkMsgpack(data); err != nil {
		return err
	}
	// The library leaves a struct zero for nil and for an empty array.
	if len(data) == 1 && (data[0] == 0xc0 || data[0] == 0x90) {
		if mt, ok := wantsMessage(v); ok {
			return fmt.Errorf("codecs: msgpack: %s where a %s was expected", map[byte]string{0xc0: "nil", 0x90: "empty array"}[data[0]], mt.Name())
		}
	}
	d := msgpackDecoders.Get().(*msgpackDecoder)
	defer msgpackDecoders.Put(d)
	d.r.Reset(data)
	d.dec.ResetReader(&d.r)
	err := d.dec.Decode(v)
	d.dec.ResetReader(nil)
	return err
}

// checkMsgpack verifies that data is exactly one well-formed MessagePack
// value and that every length and count fits in the bytes that remain
// (each element takes at least one byte). It allocates nothing.
func checkMsgpack(data []byte) error {
	off := 0
	for pending := 1; pending > 0; pending-- { // values still to read
		if off >= len(data) {
			return fmt.Errorf("codecs: msgpack: truncated input (%d bytes)", len(data))
		}
		c := data[off]
		off++
		var skip, items uint64 // bytes to skip, values that follow
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c <= 0x8f:
			items = 2 * uint64(c&0x0f)
		case c <= 0x9f:
			items = uint64(c & 0x0f)
		case c <= 0xbf:
			skip = uint64(c & 0x1f)
		case c == 0xc1:
			return fmt.Errorf("codecs: msgpack: reserved byte 0xc1 at offset %d", off-1)
		default:
			spec := msgpackSpecs[c-0xc4]
			n, ok := readBE(data[off:], int(spec.lenBytes))
			if !ok {
				return fmt.Errorf("codecs: msgpack: truncated header at offset %d", off-1)
			}
			off += int(spec.lenBytes)
			skip = uint64(spec.fixed) + n*uint64(spec.perLen&1)
			items = n * uint64(spec.perLen>>1)
		}
		if skip > uint64(len(data)-off) {
			return fmt.Errorf("codecs: msgpack: length %d at offset %d exceeds the input", skip, off)
		}
		off += int(skip)
		// Every value still pending needs at least one byte.
		if uint64(pending-1)+items > uint64(len(data)-off) {
			return fmt.Errorf("codecs: msgpack: count %d at offset %d exceeds the input", items, off)
		}
		pending += int(items)
	}
	if off != len(data) {
		return fmt.Errorf("codecs: msgpack: %d bytes after the value", len(data)-off)
	}
	return nil
}

// msgpackSpec describes the type bytes 0xc4..0xdf: how many bytes hold a
// length, fixed bytes that follow, and what the length counts (perLen bit
// 0: bytes to skip; bits 1-2: values per unit, 1 for arrays, 2 for maps).
type msgpackSpec struct{ lenBytes, fixed, perLen uint8 }

var msgpackSpecs = [...]msgpackSpec{
	{1, 0, 1}, {2, 0, 1}, {4, 0, 1}, // c4-c6 bin 8/16/32
	{1, 1, 1}, {2, 1, 1}, {4, 1, 1}, // c7-c9 ext 8/16/32 (type byte)
	{0, 4, 0}, {0, 8, 0}, // ca-cb float 32/64
	{0, 1, 0}, {0, 2, 0}, {0, 4, 0}, {0, 8, 0}, // cc-cf uint
	{0, 1, 0}, {0, 2, 0}, {0, 4, 0}, {0, 8, 0}, // d0-d3 int
	{0, 2, 0}, {0, 3, 0}, {0, 5, 0}, {0, 9, 0}, {0, 17, 0}, // d4-d8 fixext
	{1, 0, 1}, {2, 0, 1}, {4, 0, 1}, // d9-db str 8/16/32
	{2, 0, 2}, {4, 0, 2}, // dc-dd array 16/32
	{2, 0, 4}, {4, 0, 4}, // de-df map 16/32
}

// readBE reads an n-byte big-endian unsigned integer (n is 0, 1, 2 or 4).
func readBE(b []byte, n int) (uint64, bool) {
	if len(b) < n {
		return 0, false
	}
	switch n {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), true
	}
	return 0, true
}
