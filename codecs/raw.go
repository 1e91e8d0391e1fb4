package codecs

import (
	"fmt"

	"rpcbench/codecs/benchmsg"
)

// Raw passes bytes through unchanged: Marshal takes []byte, *[]byte, string
// or *benchmsg.Blob, Unmarshal takes *[]byte (reusing its capacity) or
// *benchmsg.Blob. The Blob forms let the harness send its Bytes(n) payload
// through every codec, raw included.
type Raw struct{}

func init() { Register(Raw{}) }

// Name implements Codec.
func (Raw) Name() string { return "raw" }

// ID implements Codec.
func (Raw) ID() uint8 { return 1 }

// Marshal implements Codec.
func (Raw) Marshal(dst []byte, v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return append(dst, b...), nil
	case *[]byte:
		return append(dst, *b...), nil
	case string:
		return append(dst, b...), nil
	case *benchmsg.Blob:
		return append(dst, b.GetData()...), nil
	}
	return dst, fmt.Errorf("codecs: raw codec cannot marshal %T (want []byte or *benchmsg.Blob)", v)
}

// Unmarshal implements Codec.
func (Raw) Unmarshal(data []byte, v any) error {
	switch b := v.(type) {
	case *[]byte:
		*b = append((*b)[:0], data...)
		return nil
	case *benchmsg.Blob:
		b.Data = append(b.Data[:0], data...)
		return nil
	}
	return fmt.Errorf("codecs: raw codec cannot unmarshal into %T (want *[]byte or *benchmsg.Blob)", v)
}
