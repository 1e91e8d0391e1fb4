package benchmsg

import "rpcbench/codecs"

var _ codecs.RawMessage = (*Blob)(nil)

// RawBytes implements codecs.RawMessage: the raw codec sends a Blob's
// data as it is.
func (m *Blob) RawBytes() []byte { return m.GetData() }

// SetRawBytes implements codecs.RawMessage.
func (m *Blob) SetRawBytes(b []byte) { m.Data = append(m.Data[:0], b...) }
