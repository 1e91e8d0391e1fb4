package flatbuf

import (
	"fmt"
	"slices"
	"sync"

	flatbuffers "github.com/google/flatbuffers/go"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/flatbuf/benchfb"
)

// encoder is a pooled builder with scratch space. FlatBuffers builds back
// to front and a table's children must be finished before the table
// starts, so child offsets wait in offs (a stack: each vector pops what it
// pushed) and the map's keys in keys, for sorting.
type encoder struct {
	b    *flatbuffers.Builder
	offs []flatbuffers.UOffsetT
	keys []string
}

// maxPooledBuffer keeps a builder that grew for one huge blob from
// staying in the pool.
const maxPooledBuffer = 1 << 20

var encoders = sync.Pool{New: func() any { return &encoder{b: flatbuffers.NewBuilder(1024)} }}

func putEncoder(e *encoder) {
	if cap(e.b.Bytes) <= maxPooledBuffer {
		encoders.Put(e)
	}
}

func (e *encoder) finish(root flatbuffers.UOffsetT, id string) {
	e.b.FinishSizePrefixedWithFileIdentifier(root, []byte(id))
}

// str writes s, or nothing for "" (offset 0, and the caller adds no
// field): an absent string reads back as empty, as in protobuf.
func (e *encoder) str(s string) flatbuffers.UOffsetT {
	if s == "" {
		return 0
	}
	return e.b.CreateString(s)
}

// addRef adds a child with its generated add function, unless the child
// is absent (offset 0).
func addRef(b *flatbuffers.Builder, off flatbuffers.UOffsetT, add func(*flatbuffers.Builder, flatbuffers.UOffsetT)) {
	if off != 0 {
		add(b, off)
	}
}

// tables ends a vector of the child tables pushed on offs since base.
func (e *encoder) tables(base int) flatbuffers.UOffsetT {
	offs := e.offs[base:]
	e.b.StartVector(4, len(offs), 4)
	for i := len(offs) - 1; i >= 0; i-- {
		e.b.PrependUOffsetT(offs[i])
	}
	e.offs = e.offs[:base]
	return e.b.EndVector(len(offs))
}

// repeated writes each message of a repeated field as a table, then the
// vector of them (nothing for an empty field).
func repeated[M any](e *encoder, ms []*M, write func(*encoder, *M) flatbuffers.UOffsetT, field string) (flatbuffers.UOffsetT, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	base := len(e.offs)
	for _, m := range ms {
		if m == nil {
			e.offs = e.offs[:base]
			return 0, fmt.Errorf("flatbuffers: %s has a nil element", field)
		}
		e.offs = append(e.offs, write(e, m))
	}
	return e.tables(base), nil
}

// small writes m's table. Eight-byte fields go first so the table needs
// no padding.
func (e *encoder) small(m *benchmsg.Small) flatbuffers.UOffsetT {
	name, phone := e.str(m.Name), e.str(m.Phone)
	b := e.b
	benchfb.SmallStart(b)
	benchfb.SmallAddBirthday(b, m.Birthday)
	benchfb.SmallAddMoney(b, m.Money)
	addRef(b, name, benchfb.SmallAddName)
	addRef(b, phone, benchfb.SmallAddPhone)
	benchfb.SmallAddSiblings(b, m.Siblings)
	benchfb.SmallAddSpouse(b, m.Spouse)
	return benchfb.SmallEnd(b)
}

func (e *encoder) medium(m *benchmsg.Medium) error {
	var owner, tags, scores, counters flatbuffers.UOffsetT
	if m.Owner != nil {
		owner = e.small(m.Owner)
	}
	members, err := repeated(e, m.Members, (*encoder).small, "Medium.Members")
	if err != nil {
		return err
	}
	if len(m.Tags) > 0 {
		base := len(e.offs)
		for _, t := range m.Tags {
			e.offs = append(e.offs, e.b.CreateString(t))
		}
		tags = e.tables(base)
	}
	if len(m.Scores) > 0 {
		benchfb.MediumStartScoresVector(e.b, len(m.Scores))
		for i := len(m.Scores) - 1; i >= 0; i-- {
			e.b.PrependInt64(m.Scores[i])
		}
		scores = e.b.EndVector(len(m.Scores))
	}
	if len(m.Counters) > 0 {
		counters = e.counters(m.Counters)
	}
	title := e.str(m.Title)
	b := e.b
	benchfb.MediumStart(b)
	benchfb.MediumAddId(b, m.Id)
	benchfb.MediumAddRatio(b, m.Ratio)
	addRef(b, title, benchfb.MediumAddTitle)
	addRef(b, owner, benchfb.MediumAddOwner)
	addRef(b, members, benchfb.MediumAddMembers)
	addRef(b, tags, benchfb.MediumAddTags)
	addRef(b, scores, benchfb.MediumAddScores)
	addRef(b, counters, benchfb.MediumAddCounters)
	benchfb.MediumAddActive(b, m.Active)
	e.finish(benchfb.MediumEnd(b), idMedium)
	return nil
}

// counters writes the map as Counter tables sorted by key, as the
// schema's (key) attribute promises readers that binary-search it.
func (e *encoder) counters(m map[string]int64) flatbuffers.UOffsetT {
	e.keys = e.keys[:0]
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	base := len(e.offs)
	for _, k := range e.keys {
		key := e.b.CreateString(k)
		benchfb.CounterStart(e.b)
		benchfb.CounterAddValue(e.b, m[k])
		benchfb.CounterAddKey(e.b, key) // an empty key is still a key
		e.offs = append(e.offs, benchfb.CounterEnd(e.b))
	}
	clear(e.keys) // drop the caller's strings
	return e.tables(base)
}

func (e *encoder) large(m *benchmsg.Large) error {
	records, err := repeated(e, m.Records, (*encoder).record, "Large.Records")
	if err != nil {
		return err
	}
	source := e.str(m.Source)
	b := e.b
	benchfb.LargeStart(b)
	benchfb.LargeAddGenerated(b, m.Generated)
	addRef(b, source, benchfb.LargeAddSource)
	addRef(b, records, benchfb.LargeAddRecords)
	e.finish(benchfb.LargeEnd(b), idLarge)
	return nil
}

func (e *encoder) record(r *benchmsg.Record) flatbuffers.UOffsetT {
	key, value := e.str(r.Key), e.str(r.Value)
	var flags flatbuffers.UOffsetT
	if len(r.Flags) > 0 {
		benchfb.RecordStartFlagsVector(e.b, len(r.Flags))
		for i := len(r.Flags) - 1; i >= 0; i-- {
			e.b.PrependInt32(r.Flags[i])
		}
		flags = e.b.EndVector(len(r.Flags))
	}
	b := e.b
	benchfb.RecordStart(b)
	benchfb.RecordAddId(b, r.Id)
	benchfb.RecordAddCreated(b, r.Created)
	benchfb.RecordAddAmount(b, r.Amount)
	addRef(b, key, benchfb.RecordAddKey)
	addRef(b, value, benchfb.RecordAddValue)
	addRef(b, flags, benchfb.RecordAddFlags)
	benchfb.RecordAddKind(b, r.Kind)
	benchfb.RecordAddDeleted(b, r.Deleted)
	return benchfb.RecordEnd(b)
}

func (e *encoder) blob(m *benchmsg.Blob) {
	var data flatbuffers.UOffsetT
	if len(m.Data) > 0 {
		data = e.b.CreateByteVector(m.Data)
	}
	benchfb.BlobStart(e.b)
	addRef(e.b, data, benchfb.BlobAddData)
	e.finish(benchfb.BlobEnd(e.b), idBlob)
}
