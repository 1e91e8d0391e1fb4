package flatbuf

import (
	flatbuffers "github.com/google/flatbuffers/go"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/flatbuf/benchfb"
)

// decoder converts a verified buffer into benchmsg values. Like the binary
// codec it copies the buffer once into s and cuts every string from that
// copy: one allocation instead of one per string (a retained string keeps
// the whole copy alive).
type decoder struct {
	b []byte // the buffer without its size prefix
	s string // copy of b
}

// open verifies data and prepares a decoder for it.
func open(data []byte, id string, root *tableDesc) (flatbuffers.Table, decoder, error) {
	t, err := verify(data, id, root)
	if err != nil {
		return t, decoder{}, err
	}
	return t, decoder{b: t.Bytes, s: string(t.Bytes)}, nil
}

// str returns the copy of a string the generated code sliced from b. A
// subslice's capacity tells where it starts.
func (d *decoder) str(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	start := cap(d.b) - cap(v)
	return d.s[start : start+len(v)]
}

// The decoders set every field, so nothing of a previous value survives.

func (d *decoder) small(m *benchmsg.Small, pos flatbuffers.UOffsetT) {
	var t benchfb.Small
	t.Init(d.b, pos)
	d.smallFrom(m, &t)
}

func (d *decoder) smallFrom(m *benchmsg.Small, t *benchfb.Small) {
	m.Name = d.str(t.Name())
	m.Birthday = t.Birthday()
	m.Phone = d.str(t.Phone())
	m.Siblings = t.Siblings()
	m.Spouse = t.Spouse()
	m.Money = t.Money()
}

func (d *decoder) medium(m *benchmsg.Medium, pos flatbuffers.UOffsetT) {
	var t benchfb.Medium
	t.Init(d.b, pos)
	m.Id = t.Id()
	m.Title = d.str(t.Title())
	var s benchfb.Small
	m.Owner = nil
	if t.Owner(&s) != nil {
		m.Owner = new(benchmsg.Small)
		d.smallFrom(m.Owner, &s)
	}
	m.Members = nil
	if n := t.MembersLength(); n > 0 {
		backing := make([]benchmsg.Small, n)
		m.Members = make([]*benchmsg.Small, n)
		for i := range backing {
			t.Members(&s, i)
			d.smallFrom(&backing[i], &s)
			m.Members[i] = &backing[i]
		}
	}
	m.Tags = nil
	if n := t.TagsLength(); n > 0 {
		m.Tags = make([]string, n)
		for i := range m.Tags {
			m.Tags[i] = d.str(t.Tags(i))
		}
	}
	m.Scores = nil
	if n := t.ScoresLength(); n > 0 {
		m.Scores = make([]int64, n)
		for i := range m.Scores {
			m.Scores[i] = t.Scores(i)
		}
	}
	m.Counters = nil
	if n := t.CountersLength(); n > 0 {
		m.Counters = make(map[string]int64, n)
		var c benchfb.Counter
		for i := range n {
			t.Counters(&c, i)
			m.Counters[d.str(c.Key())] = c.Value() // keys are unique: verified
		}
	}
	m.Ratio = t.Ratio()
	m.Active = t.Active()
}

func (d *decoder) large(m *benchmsg.Large, pos flatbuffers.UOffsetT) {
	var t benchfb.Large
	t.Init(d.b, pos)
	m.Source = d.str(t.Source())
	m.Generated = t.Generated()
	m.Records = nil
	n := t.RecordsLength()
	if n == 0 {
		return
	}
	backing := make([]benchmsg.Record, n)
	m.Records = make([]*benchmsg.Record, n)
	flags := 0
	var r benchfb.Record
	for i := range n {
		t.Records(&r, i)
		flags += r.FlagsLength()
	}
	chunk := make([]int32, flags) // every record's flags in one allocation
	for i := range backing {
		t.Records(&r, i)
		x := &backing[i]
		x.Id = r.Id()
		x.Kind = r.Kind()
		x.Key = d.str(r.Key())
		x.Value = d.str(r.Value())
		x.Created = r.Created()
		x.Amount = r.Amount()
		x.Flags = nil
		if k := r.FlagsLength(); k > 0 {
			x.Flags, chunk = chunk[:k:k], chunk[k:]
			for j := range x.Flags {
				x.Flags[j] = r.Flags(j)
			}
		}
		x.Deleted = r.Deleted()
		m.Records[i] = x
	}
}

// decodeBlob copies the bytes out; a blob needs no copy of the buffer.
func decodeBlob(m *benchmsg.Blob, root flatbuffers.Table) {
	var t benchfb.Blob
	t.Init(root.Bytes, root.Pos)
	m.Data = nil
	if v := t.DataBytes(); len(v) > 0 {
		m.Data = append([]byte(nil), v...)
	}
}
