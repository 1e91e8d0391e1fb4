package results

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// SchemaFile is where the JSON Schema of results.json is published,
// relative to the repository root. It is generated from the Go types by
// JSONSchema (go test ./harness/results -run TestSchemaFile -update) and
// checked against real runs in cmd/rpcbench's tests.
const SchemaFile = "results/schema.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of results.json as
// this build writes it: every object lists its properties and allows no
// others, fields written always are required, and values that encoding/json
// writes as null where Go has nil (pointers, slices and maps without
// omitempty) may be null.
func JSONSchema() ([]byte, error) {
	g := schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[Run]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://rpcbench.invalid/results/schema.json"
	root["title"] = "rpcbench results.json, schema_version " + strconv.Itoa(SchemaVersion)
	root["description"] = "One harness run: the manifest of everything that shapes its numbers and every cell's figures. " +
		"Durations and latencies are nanoseconds (fields ending in _ns), rates calls per second, sizes bytes; " +
		"histograms are HdrHistogram V2 compressed encodings in base64, values in nanoseconds. Generated from package harness/results."
	root["$defs"] = g.defs
	return json.MarshalIndent(root, "", "  ")
}

type schemaGen struct {
	defs map[string]any // named struct types, by Go name
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	timeType      = reflect.TypeFor[time.Time]()
)

// of returns the schema of a value of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler):
		return map[string]any{} // its own encoding
	case t.Implements(textMarshaler):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Pointer:
		return nullable(g.of(t.Elem()))
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return nullable(map[string]any{"type": "array", "items": g.of(t.Elem())})
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())})
	case reflect.Struct:
		name := strings.ReplaceAll(t.String(), ".", "_")
		if t.Name() == "" {
			return g.object(t)
		}
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = nil // recursion guard
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	}
	return map[string]any{} // interfaces: anything
}

// nullable lets s also be null, as encoding/json writes a nil pointer,
// slice or map.
func nullable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// object is the schema of a struct as encoding/json writes it: embedded
// structs' fields are promoted, "-" and unexported fields left out.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			ft := f.Type
			if f.Anonymous && name == "" {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct && !ft.Implements(jsonMarshaler) {
					add(ft)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			s := g.of(f.Type)
			if strings.Contains(opts, "string") {
				s = map[string]any{"type": "string"}
			}
			props[name] = s
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	add(t)
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
