package codecs

import gojson "github.com/goccy/go-json"

// FastJSON is github.com/goccy/go-json: the same JSON text as encoding/json
// (tags, field names) from a faster, pure-Go implementation, so it runs the
// same code on every platform. bytedance/sonic was measured too (see the
// package doc); it was slower to decode when it must copy strings, and it
// quietly falls back to encoding/json off amd64/arm64 or on Go versions
// newer than it knows.
type FastJSON struct{}

func init() { Register(FastJSON{}) }

var (
	fastJSONEncoders = newEncoderPool(func(w *sliceWriter) *gojson.Encoder {
		enc := gojson.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc
	})
	// Map keys are written in iteration order: readers do not care and
	// sorting is what makes encoding/json slow on maps.
	fastJSONOptions = []gojson.EncodeOptionFunc{gojson.UnorderedMap()}
)

// Name implements Codec.
func (FastJSON) Name() string { return "fastjson" }

// ID implements Codec.
func (FastJSON) ID() uint8 { return 6 }

// Describe implements Describer.
func (FastJSON) Describe() string {
	return moduleVersion("github.com/goccy/go-json") + " (pure Go, same path on every platform)"
}

// Marshal implements Codec.
func (FastJSON) Marshal(dst []byte, v any) ([]byte, error) {
	out, err := fastJSONEncoders.encode(dst, func(enc *gojson.Encoder) error {
		return enc.EncodeWithOption(v, fastJSONOptions...)
	})
	if err != nil {
		return dst, err
	}
	return out[:len(out)-1], nil // the Encoder adds a newline
}

// goJSONDisallowUnknownFields is go-json's internal decoder flag that
// Decoder.DisallowUnknownFields sets; Unmarshal has no exported option for
// it. TestStrictDecoding fails if a go-json update moves it.
const goJSONDisallowUnknownFields = 1 << 4

var fastJSONDecodeOptions = []gojson.DecodeOptionFunc{func(o *gojson.DecodeOption) { o.Flags |= goJSONDisallowUnknownFields }}

// Unmarshal implements Codec. go-json decodes from its own copy of data.
// An object key that names no field, and a null where a message was
// expected, are errors (see strict.go).
func (FastJSON) Unmarshal(data []byte, v any) error {
	if err := refuseJSONNull("fastjson", data, v); err != nil {
		return err
	}
	return gojson.UnmarshalWithOption(data, v, fastJSONDecodeOptions...)
}
