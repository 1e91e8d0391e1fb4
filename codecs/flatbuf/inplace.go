package flatbuf

import (
	"fmt"
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/flatbuf/benchfb"
)

// ReadInPlace is FlatBuffers' zero-copy read, measured honestly: it
// verifies data (untrusted bytes need it, as they do for Unmarshal), then
// reads every field of the message where it lies, through the generated
// accessors, converting nothing and allocating nothing. So that no read
// can be optimised away, every value is folded into the returned
// checksum: numbers and bools whole, each string or byte vector by its
// length and first byte (a view of the bytes is what a reader gets; it
// then uses them as it likes), vectors by their length and elements, the
// map order-independently. Checksum folds a benchmsg value the same way,
// so a test can prove that nothing is skipped.
func (Codec) ReadInPlace(data []byte) (uint64, error) {
	if len(data) < headerLen {
		return 0, fmt.Errorf("flatbuffers: %d bytes is too short for a buffer", len(data))
	}
	var h fold = offsetBasis
	switch string(data[8:12]) {
	case idSmall:
		t, err := verify(data, idSmall, smallTable)
		if err != nil {
			return 0, err
		}
		var s benchfb.Small
		s.Init(t.Bytes, t.Pos)
		h.smallFB(&s)
	case idMedium:
		t, err := verify(data, idMedium, mediumTable)
		if err != nil {
			return 0, err
		}
		h.mediumFB(t)
	case idLarge:
		t, err := verify(data, idLarge, largeTable)
		if err != nil {
			return 0, err
		}
		h.largeFB(t)
	case idBlob:
		t, err := verify(data, idBlob, blobTable)
		if err != nil {
			return 0, err
		}
		var b benchfb.Blob
		b.Init(t.Bytes, t.Pos)
		str(&h, b.DataBytes())
	default:
		return 0, fmt.Errorf("flatbuffers: unknown file identifier %q", data[8:12])
	}
	return uint64(h), nil
}

// Checksum folds v as ReadInPlace folds its encoding.
func Checksum(v any) (uint64, error) {
	var h fold = offsetBasis
	switch m := v.(type) {
	case *benchmsg.Small:
		h.small(m)
	case *benchmsg.Medium:
		h.medium(m)
	case *benchmsg.Large:
		h.large(m)
	case *benchmsg.Blob:
		str(&h, m.Data)
	default:
		return 0, fmt.Errorf("flatbuffers: no checksum for %T", v)
	}
	return uint64(h), nil
}

// fold is FNV-1a over 64-bit words.
type fold uint64

const (
	offsetBasis fold = 14695981039346656037
	prime       fold = 1099511628211
)

func (h *fold) add(x uint64) { *h = (*h ^ fold(x)) * prime }

func (h *fold) i64(x int64)   { h.add(uint64(x)) }
func (h *fold) f64(x float64) { h.add(math.Float64bits(x)) }

func (h *fold) bool(x bool) {
	if x {
		h.add(1)
	} else {
		h.add(0)
	}
}

// str folds a string's length and first byte.
func str[S string | []byte](h *fold, s S) {
	h.add(uint64(len(s)))
	if len(s) > 0 {
		h.add(uint64(s[0]))
	}
}

// counter folds one map entry so that the sum over entries does not
// depend on their order.
func counter[S string | []byte](key S, value int64) uint64 {
	var e fold = offsetBasis
	str(&e, key)
	e.i64(value)
	return uint64(e)
}

// Readers of buffers.

func (h *fold) smallFB(s *benchfb.Small) {
	str(h, s.Name())
	h.i64(s.Birthday())
	str(h, s.Phone())
	h.i64(int64(s.Siblings()))
	h.bool(s.Spouse())
	h.f64(s.Money())
}

func (h *fold) mediumFB(root flatbuffers.Table) {
	var t benchfb.Medium
	t.Init(root.Bytes, root.Pos)
	h.i64(t.Id())
	str(h, t.Title())
	var s benchfb.Small
	if t.Owner(&s) != nil {
		h.bool(true)
		h.smallFB(&s)
	} else {
		h.bool(false)
	}
	n := t.MembersLength()
	h.i64(int64(n))
	for i := range n {
		t.Members(&s, i)
		h.smallFB(&s)
	}
	n = t.TagsLength()
	h.i64(int64(n))
	for i := range n {
		str(h, t.Tags(i))
	}
	n = t.ScoresLength()
	h.i64(int64(n))
	for i := range n {
		h.i64(t.Scores(i))
	}
	n = t.CountersLength()
	h.i64(int64(n))
	var c benchfb.Counter
	var entries uint64
	for i := range n {
		t.Counters(&c, i)
		entries += counter(c.Key(), c.Value())
	}
	h.add(entries)
	h.f64(t.Ratio())
	h.bool(t.Active())
}

func (h *fold) largeFB(root flatbuffers.Table) {
	var t benchfb.Large
	t.Init(root.Bytes, root.Pos)
	str(h, t.Source())
	h.i64(t.Generated())
	n := t.RecordsLength()
	h.i64(int64(n))
	var r benchfb.Record
	for i := range n {
		t.Records(&r, i)
		h.i64(r.Id())
		h.i64(int64(r.Kind()))
		str(h, r.Key())
		str(h, r.Value())
		h.i64(r.Created())
		h.f64(r.Amount())
		k := r.FlagsLength()
		h.i64(int64(k))
		for j := range k {
			h.i64(int64(r.Flags(j)))
		}
		h.bool(r.Deleted())
	}
}

// The same over benchmsg values.

func (h *fold) small(s *benchmsg.Small) {
	str(h, s.GetName())
	h.i64(s.GetBirthday())
	str(h, s.GetPhone())
	h.i64(int64(s.GetSiblings()))
	h.bool(s.GetSpouse())
	h.f64(s.GetMoney())
}

func (h *fold) medium(m *benchmsg.Medium) {
	h.i64(m.Id)
	str(h, m.Title)
	h.bool(m.Owner != nil)
	if m.Owner != nil {
		h.small(m.Owner)
	}
	h.i64(int64(len(m.Members)))
	for _, s := range m.Members {
		h.small(s)
	}
	h.i64(int64(len(m.Tags)))
	for _, t := range m.Tags {
		str(h, t)
	}
	h.i64(int64(len(m.Scores)))
	for _, s := range m.Scores {
		h.i64(s)
	}
	h.i64(int64(len(m.Counters)))
	var entries uint64
	for k, v := range m.Counters {
		entries += counter(k, v)
	}
	h.add(entries)
	h.f64(m.Ratio)
	h.bool(m.Active)
}

func (h *fold) large(m *benchmsg.Large) {
	str(h, m.Source)
	h.i64(m.Generated)
	h.i64(int64(len(m.Records)))
	for _, r := range m.Records {
		h.i64(r.Id)
		h.i64(int64(r.Kind))
		str(h, r.Key)
		str(h, r.Value)
		h.i64(r.Created)
		h.f64(r.Amount)
		h.i64(int64(len(r.Flags)))
		for _, f := range r.Flags {
			h.i64(int64(f))
		}
		h.bool(r.Deleted)
	}
}
