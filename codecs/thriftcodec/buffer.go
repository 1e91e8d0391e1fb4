package thriftcodec

import (
	"context"
	"io"

	"github.com/apache/thrift/lib/go/thrift"
)

// buffer is a Thrift transport over one byte slice, rich enough that the
// protocols use it as it is (thrift.TRichTransport): writes append to b,
// reads consume b from r. RemainingBytes matters: Thrift checks every
// list and map count against it before allocating, so a count in garbage
// cannot ask for more elements than there are bytes.
type buffer struct {
	b []byte
	r int
}

var (
	_ thrift.TTransport     = (*buffer)(nil)
	_ thrift.TRichTransport = (*buffer)(nil)
)

func (t *buffer) Read(p []byte) (int, error) {
	if t.r >= len(t.b) && len(p) > 0 {
		return 0, io.EOF
	}
	n := copy(p, t.b[t.r:])
	t.r += n
	return n, nil
}

func (t *buffer) ReadByte() (byte, error) {
	if t.r >= len(t.b) {
		return 0, io.EOF
	}
	t.r++
	return t.b[t.r-1], nil
}

func (t *buffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	return len(p), nil
}

func (t *buffer) WriteByte(c byte) error {
	t.b = append(t.b, c)
	return nil
}

func (t *buffer) WriteString(s string) (int, error) {
	t.b = append(t.b, s...)
	return len(s), nil
}

func (t *buffer) RemainingBytes() uint64      { return uint64(len(t.b) - t.r) }
func (t *buffer) Flush(context.Context) error { return nil }
func (t *buffer) Open() error                 { return nil }
func (t *buffer) IsOpen() bool                { return true }
func (t *buffer) Close() error                { return nil }
