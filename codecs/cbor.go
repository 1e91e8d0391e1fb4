package codecs

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// CBOR is github.com/fxamacker/cbor/v2 (RFC 8949). Structs are maps keyed
// by the json tag names. One EncMode and one DecMode are built at start-up
// and shared (they are immutable and safe for concurrent use); the DecMode
// bounds nesting, array and map sizes, and the library checks that the
// input is well-formed before it allocates anything.
type CBOR struct{}

func init() { Register(CBOR{}) }

var (
	cborEnc = must(cbor.EncOptions{}.UserBufferEncMode())
	cborDec = must(cbor.DecOptions{
		MaxNestedLevels:  32,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		IndefLength:      cbor.IndefLengthForbidden, // every length up front
		// A key that names no field is refused, not skipped (strict.go).
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode())
	// MarshalToBuffer wants a *bytes.Buffer; pooling it keeps Marshal from
	// allocating one per call.
	cborBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// must panics on a configuration error, which is a bug found at start-up.
func must[T any](v T, err error) T {
	if err != nil {
		panic("codecs: " + err.Error())
	}
	return v
}

// Name implements Codec.
func (CBOR) Name() string { return "cbor" }

// ID implements Codec.
func (CBOR) ID() uint8 { return 8 }

// Describe implements Describer.
func (CBOR) Describe() string { return moduleVersion("github.com/fxamacker/cbor/v2") }

// Marshal implements Codec.
func (CBOR) Marshal(dst []byte, v any) ([]byte, error) {
	buf := cborBuffers.Get().(*bytes.Buffer)
	defer cborBuffers.Put(buf)
	*buf = *bytes.NewBuffer(dst) // encode straight into dst's spare capacity
	err := cborEnc.MarshalToBuffer(v, buf)
	out := buf.Bytes()
	*buf = bytes.Buffer{}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Unmarshal implements Codec. Besides unknown keys it refuses a top-level
// null or undefined where a message was expected, which the library would
// accept and leave zero.
func (CBOR) Unmarshal(data []byte, v any) error {
	if len(data) == 1 && (data[0] == 0xf6 || data[0] == 0xf7) {
		if mt, ok := wantsMessage(v); ok {
			return fmt.Errorf("codecs: cbor: null where a %s was expected", mt.Name())
		}
	}
	return cborDec.Unmarshal(data, v)
}
