package codecs

import (
	"reflect"
	"sync"
)

// Every codec decodes strictly: a value is decoded faithfully or refused,
// never silently left zero. What each format's own users send is accepted
// (msgpack and CBOR maps keyed by the json names as well as msgpack arrays;
// JSON objects; XML elements named like the fields); what matches nothing
// is an error naming it: an unknown key, field number or element, a null
// or empty value where a message was expected, an array of the wrong
// length. The checks that cost anything run only on input that could be
// wrong in that way.

// wantsMessage reports whether v points to a struct with at least one
// exported field: a message that a null or empty value would leave zero.
// It is called only on input that is null or empty.
func wantsMessage(v any) (reflect.Type, bool) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	return t.Elem(), exportedFields(t.Elem()) > 0
}

var exportedFieldCounts sync.Map // reflect.Type -> int

func exportedFields(t reflect.Type) int {
	if n, ok := exportedFieldCounts.Load(t); ok {
		return n.(int)
	}
	n := 0
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			n++
		}
	}
	exportedFieldCounts.Store(t, n)
	return n
}
