package thriftcodec

import (
	"fmt"

	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/thriftcodec/benchthrift"
)

// outgoing holds the Thrift structs one Marshal fills. They point at the
// caller's strings, slices and map (nothing is copied); the element
// structs live in reused backing arrays.
type outgoing struct {
	msg        benchthrift.Message
	small      benchthrift.Small
	medium     benchthrift.Medium
	large      benchthrift.Large
	blob       benchthrift.Blob
	smalls     []benchthrift.Small
	smallPtrs  []*benchthrift.Small
	records    []benchthrift.Record
	recordPtrs []*benchthrift.Record
}

// message fills the Message for v.
func (o *outgoing) message(v any) (*benchthrift.Message, error) {
	o.msg = benchthrift.Message{}
	switch m := v.(type) {
	case *benchmsg.Small:
		if m != nil {
			toSmall(&o.small, m)
			o.msg.Small = &o.small
			return &o.msg, nil
		}
	case *benchmsg.Medium:
		if m != nil {
			o.msg.Medium = &o.medium
			return &o.msg, o.toMedium(m)
		}
	case *benchmsg.Large:
		if m != nil {
			o.msg.Large = &o.large
			return &o.msg, o.toLarge(m)
		}
	case *benchmsg.Blob:
		if m != nil {
			o.blob.Data = m.Data
			o.msg.Blob = &o.blob
			return &o.msg, nil
		}
	}
	return nil, fmt.Errorf("cannot marshal %T (want a non-nil *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
}

// clear drops every reference to the caller's data.
func (o *outgoing) clear() {
	o.msg = benchthrift.Message{}
	o.small = benchthrift.Small{}
	o.medium = benchthrift.Medium{}
	o.large = benchthrift.Large{}
	o.blob = benchthrift.Blob{}
	clear(o.smalls)
	clear(o.records)
}

func toSmall(t *benchthrift.Small, m *benchmsg.Small) {
	*t = benchthrift.Small{Name: m.Name, Birthday: m.Birthday, Phone: m.Phone,
		Siblings: m.Siblings, Spouse: m.Spouse, Money: m.Money}
}

func (o *outgoing) toMedium(m *benchmsg.Medium) error {
	t := &o.medium
	*t = benchthrift.Medium{ID: m.Id, Title: m.Title, Tags: m.Tags, Scores: m.Scores,
		Counters: m.Counters, Ratio: m.Ratio, Active: m.Active}
	if m.Owner != nil {
		toSmall(&o.small, m.Owner)
		t.Owner = &o.small
	}
	n := len(m.Members)
	o.smalls, o.smallPtrs = grow(o.smalls, n), grow(o.smallPtrs, n)
	for i, s := range m.Members {
		if s == nil {
			return fmt.Errorf("Medium.Members has a nil element")
		}
		toSmall(&o.smalls[i], s)
		o.smallPtrs[i] = &o.smalls[i]
	}
	t.Members = o.smallPtrs
	return nil
}

func (o *outgoing) toLarge(m *benchmsg.Large) error {
	n := len(m.Records)
	o.records, o.recordPtrs = grow(o.records, n), grow(o.recordPtrs, n)
	for i, r := range m.Records {
		if r == nil {
			return fmt.Errorf("Large.Records has a nil element")
		}
		o.records[i] = benchthrift.Record{ID: r.Id, Kind: int32(r.Kind), Key: r.Key, Value: r.Value,
			Created: r.Created, Amount: r.Amount, Flags: r.Flags, Deleted: r.Deleted}
		o.recordPtrs[i] = &o.records[i]
	}
	o.large = benchthrift.Large{Source: m.Source, Generated: m.Generated, Records: o.recordPtrs}
	return nil
}

// grow returns s resized to n, reusing its array when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// The decoders below take over what Thrift decoded (strings, slices, the
// map) instead of copying it, and set every field of m.

func smallFrom(m *benchmsg.Small, t *benchthrift.Small) {
	m.Name, m.Birthday, m.Phone = t.Name, t.Birthday, t.Phone
	m.Siblings, m.Spouse, m.Money = t.Siblings, t.Spouse, t.Money
}

func mediumFrom(m *benchmsg.Medium, t *benchthrift.Medium) {
	m.Id, m.Title = t.ID, t.Title
	m.Owner = nil
	if t.Owner != nil {
		m.Owner = new(benchmsg.Small)
		smallFrom(m.Owner, t.Owner)
	}
	m.Members = nil
	if n := len(t.Members); n > 0 {
		backing := make([]benchmsg.Small, n)
		m.Members = make([]*benchmsg.Small, n)
		for i, s := range t.Members {
			smallFrom(&backing[i], s)
			m.Members[i] = &backing[i]
		}
	}
	m.Tags, m.Scores, m.Counters = t.Tags, t.Scores, t.Counters
	m.Ratio, m.Active = t.Ratio, t.Active
}

func largeFrom(m *benchmsg.Large, t *benchthrift.Large) {
	m.Source, m.Generated = t.Source, t.Generated
	m.Records = nil
	if n := len(t.Records); n > 0 {
		backing := make([]benchmsg.Record, n)
		m.Records = make([]*benchmsg.Record, n)
		for i, r := range t.Records {
			x := &backing[i]
			x.Id, x.Kind, x.Key, x.Value = r.ID, uint32(r.Kind), r.Key, r.Value
			x.Created, x.Amount, x.Flags, x.Deleted = r.Created, r.Amount, r.Flags, r.Deleted
			m.Records[i] = x
		}
	}
}
