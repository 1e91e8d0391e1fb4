// Package thriftcodec is Apache Thrift (github.com/apache/thrift) in its
// two binary encodings, registered when the package is imported:
//
//	codec ID  name            protocol
//	12        thrift-binary   TBinaryProtocol: fixed-width big-endian numbers
//	13        thrift-compact  TCompactProtocol: varints, packed field headers
//
// Like the binary codec they know only the benchmark messages: the structs
// generated from benchmsg.thrift (package benchthrift) mirror
// benchmsg.proto field for field, and Marshal and Unmarshal convert to and
// from the benchmsg types, so the codecs work behind every transport like
// the others. The conversion is part of the measured cost; Marshal makes
// it cheap by pointing the Thrift structs at the caller's strings, slices
// and map, and Unmarshal hands over what Thrift decoded rather than
// copying it.
//
// What travels is the Message union with exactly one member set, so a
// decoder refuses a message of another type; required fields make it
// refuse a struct with a field missing or of the wrong wire type (Thrift
// would skip the latter); bytes after the message are refused too. Thrift
// itself reads a binary-protocol bool byte other than 1 as false, and
// skips unknown fields, as protobuf does.
package thriftcodec

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/thrift/lib/go/thrift"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	"rpcbench/codecs/thriftcodec/benchthrift"
)

// Codec is one Thrift protocol. It is safe for concurrent use: protocol
// state and conversion scratch are pooled.
type Codec struct {
	name, protocol string
	id             uint8
	newProtocol    func(thrift.TTransport, *thrift.TConfiguration) thrift.TProtocol
	states         sync.Pool
}

// The two protocols, registered by init.
var (
	Binary = &Codec{name: "thrift-binary", protocol: "binary", id: 12,
		newProtocol: func(t thrift.TTransport, c *thrift.TConfiguration) thrift.TProtocol {
			return thrift.NewTBinaryProtocolConf(t, c)
		}}
	Compact = &Codec{name: "thrift-compact", protocol: "compact", id: 13,
		newProtocol: func(t thrift.TTransport, c *thrift.TConfiguration) thrift.TProtocol {
			return thrift.NewTCompactProtocolConf(t, c)
		}}
)

func init() {
	codecs.Register(Binary)
	codecs.Register(Compact)
}

// Name implements codecs.Codec.
func (c *Codec) Name() string { return c.name }

// ID implements codecs.Codec.
func (c *Codec) ID() uint8 { return c.id }

// Describe implements codecs.Describer.
func (c *Codec) Describe() string {
	return codecs.ModuleVersion("github.com/apache/thrift") + " " + c.protocol + " protocol; Go code from thrift 0.17.0"
}

// config is Thrift's default: strings and containers up to 100 MB, above
// rpcbench's frame limit; container counts checked against the bytes left.
var config = &thrift.TConfiguration{}

// state is one protocol over one buffer, with the structs that Marshal
// fills. A Thrift protocol keeps scratch space, so a state serves one call
// at a time.
type state struct {
	buf   buffer
	proto thrift.TProtocol
	out   outgoing
}

func (c *Codec) get() *state {
	if s, ok := c.states.Get().(*state); ok {
		return s
	}
	s := &state{}
	s.proto = c.newProtocol(&s.buf, config)
	return s
}

func (c *Codec) put(s *state) {
	s.buf.b = nil // the caller's buffer, or the input
	s.out.clear()
	c.states.Put(s)
}

// Marshal implements codecs.Codec.
func (c *Codec) Marshal(dst []byte, v any) ([]byte, error) {
	s := c.get()
	defer c.put(s)
	msg, err := s.out.message(v)
	if err != nil {
		return dst, fmt.Errorf("%s: %w", c.name, err)
	}
	s.buf.b = dst
	if err := msg.Write(context.Background(), s.proto); err != nil {
		return dst, fmt.Errorf("%s: %w", c.name, err)
	}
	return s.buf.b, nil
}

// Unmarshal implements codecs.Codec. It replaces every field of v; the
// decoded value shares nothing with data.
func (c *Codec) Unmarshal(data []byte, v any) error {
	var want int // the Message field that must be set
	switch m := v.(type) {
	case *benchmsg.Small:
		want = 1
		if m == nil {
			want = -1
		}
	case *benchmsg.Medium:
		want = 2
		if m == nil {
			want = -1
		}
	case *benchmsg.Large:
		want = 3
		if m == nil {
			want = -1
		}
	case *benchmsg.Blob:
		want = 4
		if m == nil {
			want = -1
		}
	default:
		return fmt.Errorf("%s codec cannot unmarshal into %T (want *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", c.name, v)
	}
	if want < 0 {
		return fmt.Errorf("%s: cannot unmarshal into a nil %T", c.name, v)
	}
	var msg benchthrift.Message
	s := c.get()
	s.buf.b, s.buf.r = data, 0
	err := msg.Read(context.Background(), s.proto)
	left := len(data) - s.buf.r
	c.put(s)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", c.name, err)
	case left > 0:
		return fmt.Errorf("%s: %d bytes after the end of the message", c.name, left)
	case msg.CountSetFieldsMessage() != 1 || member(&msg) != want:
		return fmt.Errorf("%s: input holds %s, want %T", c.name, describe(&msg), v)
	}
	switch m := v.(type) {
	case *benchmsg.Small:
		smallFrom(m, msg.Small)
	case *benchmsg.Medium:
		mediumFrom(m, msg.Medium)
	case *benchmsg.Large:
		largeFrom(m, msg.Large)
	case *benchmsg.Blob:
		m.Data = msg.Blob.Data
	}
	return nil
}

// member is the field ID of the set member of a one-member Message.
func member(m *benchthrift.Message) int {
	switch {
	case m.IsSetSmall():
		return 1
	case m.IsSetMedium():
		return 2
	case m.IsSetLarge():
		return 3
	case m.IsSetBlob():
		return 4
	}
	return 0
}

func describe(m *benchthrift.Message) string {
	if n := m.CountSetFieldsMessage(); n != 1 {
		return fmt.Sprintf("a Message with %d members set", n)
	}
	return [...]string{1: "a Small", 2: "a Medium", 3: "a Large", 4: "a Blob"}[member(m)]
}
