// Package flatbuf is the FlatBuffers codec (github.com/google/flatbuffers),
// registered as "flatbuffers" with wire ID 11 when the package is imported.
// Like the binary codec it knows only the benchmark messages: the tables of
// benchmsg.fbs (generated code in benchfb) mirror benchmsg.proto field for
// field, and Marshal and Unmarshal convert to and from the benchmsg types,
// so the codec works behind every transport like the others.
//
// Each buffer is size-prefixed and carries a file identifier naming its
// root table ("RBSM" Small, "RBMD" Medium, "RBLG" Large, "RBBL" Blob), so
// a decoder refuses a message of another type, a truncated buffer and
// bytes after the end. FlatBuffers' Go library has no verifier and its
// generated readers index the buffer unchecked, so every decode first
// runs verify (verify.go), which checks every offset, length and bool
// against the buffer before anything is read.
//
// FlatBuffers' selling point is reading a message where it lies, with no
// decode step. Unmarshal cannot show that, because it must fill benchmsg
// structs; ReadInPlace (inplace.go) reads every field of a verified buffer
// without converting, and `rpcbench codecs` measures it beside Unmarshal.
package flatbuf

import (
	"fmt"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

// Codec is the FlatBuffers codec. It is stateless and safe for concurrent
// use; builders are pooled.
type Codec struct{}

func init() { codecs.Register(Codec{}) }

// Name implements codecs.Codec.
func (Codec) Name() string { return "flatbuffers" }

// ID implements codecs.Codec.
func (Codec) ID() uint8 { return 11 }

// Describe implements codecs.Describer.
func (Codec) Describe() string {
	return codecs.ModuleVersion("github.com/google/flatbuffers") + ", size-prefixed, verified; Go code from flatc 2.0.8"
}

// File identifiers: which root table a buffer holds.
const (
	idSmall  = "RBSM"
	idMedium = "RBMD"
	idLarge  = "RBLG"
	idBlob   = "RBBL"
)

// Marshal implements codecs.Codec. It appends one finished buffer to dst.
func (Codec) Marshal(dst []byte, v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer putEncoder(e)
	e.b.Reset()
	var err error
	switch m := v.(type) {
	case *benchmsg.Small:
		if m == nil {
			return dst, cannotMarshal(v)
		}
		e.finish(e.small(m), idSmall)
	case *benchmsg.Medium:
		if m == nil {
			return dst, cannotMarshal(v)
		}
		err = e.medium(m)
	case *benchmsg.Large:
		if m == nil {
			return dst, cannotMarshal(v)
		}
		err = e.large(m)
	case *benchmsg.Blob:
		if m == nil {
			return dst, cannotMarshal(v)
		}
		e.blob(m)
	default:
		return dst, cannotMarshal(v)
	}
	if err != nil {
		return dst, err
	}
	return append(dst, e.b.FinishedBytes()...), nil
}

func cannotMarshal(v any) error {
	return fmt.Errorf("flatbuffers codec cannot marshal %T (want a non-nil *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
}

// Unmarshal implements codecs.Codec. It verifies data, then replaces every
// field of v. Strings point into one copy of data, made once per call.
func (Codec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case *benchmsg.Small:
		if m != nil {
			root, d, err := open(data, idSmall, smallTable)
			if err == nil {
				d.small(m, root.Pos)
			}
			return err
		}
	case *benchmsg.Medium:
		if m != nil {
			root, d, err := open(data, idMedium, mediumTable)
			if err == nil {
				d.medium(m, root.Pos)
			}
			return err
		}
	case *benchmsg.Large:
		if m != nil {
			root, d, err := open(data, idLarge, largeTable)
			if err == nil {
				d.large(m, root.Pos)
			}
			return err
		}
	case *benchmsg.Blob:
		if m != nil {
			root, err := verify(data, idBlob, blobTable)
			if err == nil {
				decodeBlob(m, root)
			}
			return err
		}
	default:
		return fmt.Errorf("flatbuffers codec cannot unmarshal into %T (want *benchmsg.Small, *benchmsg.Medium, *benchmsg.Large or *benchmsg.Blob)", v)
	}
	return fmt.Errorf("flatbuffers: cannot unmarshal into a nil %T", v)
}
