package codecs

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
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
// white space after the element, and a child element that names no field
// (encoding/xml skips those, which leaves a misspelt request zero).
func (XML) Unmarshal(data []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	return checkXMLElements(data, reflect.TypeOf(v).Elem()) // Decode took v: a pointer
}

// xmlFields are the child element names a struct type accepts, and the
// types they decode into. open is set when the type takes any element
// (an ",any" or ",innerxml" field) or decodes itself (xml.Unmarshaler).
type xmlFields struct {
	open  bool
	names map[string]reflect.Type
}

var xmlFieldCache sync.Map // reflect.Type -> *xmlFields

var xmlUnmarshaler = reflect.TypeFor[xml.Unmarshaler]()

func xmlFieldsOf(t reflect.Type) *xmlFields {
	if f, ok := xmlFieldCache.Load(t); ok {
		return f.(*xmlFields)
	}
	f := &xmlFields{names: map[string]reflect.Type{}}
	if reflect.PointerTo(t).Implements(xmlUnmarshaler) {
		f.open = true
	} else {
		f.add(t)
	}
	xmlFieldCache.Store(t, f)
	return f
}

func (f *xmlFields) add(t reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("xml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || (!sf.IsExported() && !sf.Anonymous):
		case strings.Contains(","+opts+",", ",any,") || strings.Contains(","+opts+",", ",innerxml,"):
			f.open = true
		case opts != "" && name == "" && !strings.Contains(opts, "omitempty"):
			// attr, chardata, comment: not a child element
		case strings.Contains(opts, "attr"):
		case sf.Anonymous && tag == "" && indirect(sf.Type).Kind() == reflect.Struct:
			f.add(indirect(sf.Type))
		case sf.Name == "XMLName":
		default:
			if name == "" {
				name = sf.Name
			}
			first, _, path := strings.Cut(name, ">")
			if path {
				f.names[first] = nil // a path: its inner elements are not checked
			} else {
				f.names[first] = sf.Type
			}
		}
	}
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || (t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8) {
		t = t.Elem()
	}
	return t
}

// checkXMLElements walks data's elements beside the struct type t and
// reports the first child element that names no field, and anything but
// white space after the root element.
func checkXMLElements(data []byte, t reflect.Type) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	// types[i] is the struct type of the element open at depth i; nil
	// when its content is not checked.
	types := []reflect.Type{nil}
	if t = indirect(t); t.Kind() == reflect.Struct {
		types[0] = t
	}
	depth := -1 // the root element is depth 0
	ended := false
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ended {
			if cd, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) != 0 {
				return fmt.Errorf("codecs: xml: data after the element")
			}
			continue
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 0 {
				continue
			}
			parent := types[depth-1]
			var child reflect.Type
			if parent != nil {
				f := xmlFieldsOf(parent)
				if !f.open {
					ft, ok := f.names[e.Name.Local]
					if !ok {
						return fmt.Errorf("codecs: xml: unknown element <%s> in %s (fields: %s)", e.Name.Local, parent.Name(), strings.Join(sortedKeys(f.names), ", "))
					}
					if ft != nil && indirect(ft).Kind() == reflect.Struct {
						child = indirect(ft)
					}
				}
			}
			types = append(types[:depth], child)
		case xml.EndElement:
			depth--
			ended = depth == -1
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
