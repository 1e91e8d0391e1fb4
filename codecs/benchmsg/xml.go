package benchmsg

import (
	"encoding/base64"
	"encoding/xml"
	"sort"
)

// encoding/xml cannot encode maps and writes []byte as text (mangling bytes
// that are not UTF-8), so Medium and Blob carry these shims; only the xml
// codec pays for them.

// mediumFields has Medium's fields and none of its methods.
type mediumFields Medium

// xmlMedium shadows Medium's map with a list of entries; the shallower
// Counters field hides the embedded one.
type xmlMedium struct {
	*mediumFields
	Counters []xmlCounter `xml:"Counters>C"`
}

type xmlCounter struct {
	K string `xml:"k,attr"`
	V int64  `xml:"v,attr"`
}

// MarshalXML implements xml.Marshaler, writing the map sorted by key.
func (m *Medium) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	x := xmlMedium{mediumFields: (*mediumFields)(m), Counters: make([]xmlCounter, 0, len(m.Counters))}
	for k, v := range m.Counters {
		x.Counters = append(x.Counters, xmlCounter{k, v})
	}
	sort.Slice(x.Counters, func(i, j int) bool { return x.Counters[i].K < x.Counters[j].K })
	return e.EncodeElement(&x, start)
}

// UnmarshalXML implements xml.Unmarshaler.
func (m *Medium) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	x := xmlMedium{mediumFields: (*mediumFields)(m)}
	if err := d.DecodeElement(&x, &start); err != nil {
		return err
	}
	if len(x.Counters) > 0 {
		m.Counters = make(map[string]int64, len(x.Counters))
		for _, c := range x.Counters {
			m.Counters[c.K] = c.V
		}
	}
	return nil
}

// MarshalXML implements xml.Marshaler, writing Data in base64 as JSON does.
func (b *Blob) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		Data string `xml:"Data"`
	}{base64.StdEncoding.EncodeToString(b.Data)}, start)
}

// UnmarshalXML implements xml.Unmarshaler.
func (b *Blob) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var x struct {
		Data string `xml:"Data"`
	}
	if err := d.DecodeElement(&x, &start); err != nil {
		return err
	}
	data, err := base64.StdEncoding.DecodeString(x.Data)
	b.Data = data
	return err
}
