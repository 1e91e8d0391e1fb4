package codecs

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// XML is encoding/xml, the verbose text reference. encoding/xml has no
// maps and writes []byte as text, so benchmsg.Medium and benchmsg.Blob
// implement xml.Marshaler to encode their map as entries and bytes as
// base64; that cost is part of this codec's numbers.
type XML struct{}

func init() { Register(XML{}) }

var xmlEncoders = newEncoderPool(func(w *sliceWriter) *xml.Encoder { return xml.NewEncoder(w) })

// Name implements Codec.
func (XML) Name() string { return "xml" }

// ID implements Codec.
func (XML) ID() uint8 { return 10 }

// Describe implements Describer.
func (XML) Describe() string { return "encoding/xml (stdlib)" }

// Marshal implements Codec.
func (XML) Marshal(dst []byte, v any) ([]byte, error) {
	return xmlEncoders.encode(dst, func(enc *xml.Encoder) error { return enc.Encode(v) })
}

// Unmarshal implements Codec. Unlike xml.Unmarshal it rejects anything but
// white space after the element.
func (XML) Unmarshal(data []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) != 0 {
			return fmt.Errorf("codecs: xml: data after the element")
		}
	}
}
