package codecs

import "encoding/json"

// JSON is encoding/json, the familiar text reference.
type JSON struct{}

func init() { Register(JSON{}) }

var jsonEncoders = newEncoderPool(func(w *sliceWriter) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
})

// Name implements Codec.
func (JSON) Name() string { return "json" }

// ID implements Codec.
func (JSON) ID() uint8 { return 2 }

// Describe implements Describer.
func (JSON) Describe() string { return "encoding/json (stdlib)" }

// Marshal implements Codec.
func (JSON) Marshal(dst []byte, v any) ([]byte, error) {
	out, err := jsonEncoders.encode(dst, func(enc *json.Encoder) error { return enc.Encode(v) })
	if err != nil {
		return dst, err
	}
	return out[:len(out)-1], nil // Encode adds a newline
}

// Unmarshal implements Codec.
func (JSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
