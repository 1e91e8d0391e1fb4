package codecs

import "fmt"

// Raw passes bytes through unchanged: Marshal takes []byte, *[]byte, string
// or a RawMessage, Unmarshal takes *[]byte (reusing its capacity) or a
// RawMessage.
type Raw struct{}

// RawMessage is a message that the raw codec carries as its bytes,
// unchanged: the benchmark's Blob (package benchmsg), so that the harness
// sends its Bytes(n) payload through every codec, raw included.
type RawMessage interface {
	// RawBytes returns the message's bytes.
	RawBytes() []byte
	// SetRawBytes makes the message hold a copy of b, reusing its capacity.
	SetRawBytes(b []byte)
}

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
	case RawMessage:
		return append(dst, b.RawBytes()...), nil
	}
	return dst, fmt.Errorf("codecs: raw codec cannot marshal %T (want []byte or a codecs.RawMessage such as *benchmsg.Blob)", v)
}

// Unmarshal implements Codec.
func (Raw) Unmarshal(data []byte, v any) error {
	switch b := v.(type) {
	case *[]byte:
		*b = append((*b)[:0], data...)
		return nil
	case RawMessage:
		b.SetRawBytes(data)
		return nil
	}
	return fmt.Errorf("codecs: raw codec cannot unmarshal into %T (want *[]byte or a codecs.RawMessage such as *benchmsg.Blob)", v)
}
