package codecs

import (
	"bytes"
	"encoding/json"
	"fmt"
)

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

// Unmarshal implements Codec. An object key that names no field, and a
// null where a message was expected, are errors (see strict.go).
func (JSON) Unmarshal(data []byte, v any) error {
	if err := refuseJSONNull("json", data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) != 0 {
		return fmt.Errorf("codecs: json: data after the value at offset %d", off)
	}
	return nil
}

// refuseJSONNull refuses a top-level null decoded into a message, which
// encoding/json would accept and leave zero.
func refuseJSONNull(codec string, data []byte, v any) error {
	t := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(t, []byte("null")) {
		return nil
	}
	if mt, ok := wantsMessage(v); ok {
		return fmt.Errorf("codecs: %s: null where a %s object was expected", codec, mt.Name())
	}
	return nil
}
