// Package strictcases holds, per codec, the request bodies that codec's
// users send for a two-field message (Arith.Add's {a, b}) and bodies that
// are valid in the format but of the wrong shape. The codecs' unit tests
// decode them directly; cmd/rpcbench sends them to a real server over TCP
// and, with curl, over HTTP/1.1.
package strictcases

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"strings"
)

// AddArgs has the shape of Arith.Add's request (services.AddArgs).
type AddArgs struct {
	A int64 `json:"a"`
	B int64 `json:"b"`
}

// Case is one body a codec's users may send: Want is the decoded value,
// or Refuse a fragment of the error.
type Case struct {
	Name   string
	Body   []byte
	Want   AddArgs
	Refuse string
}

// Hex decodes hex digits written with spaces between bytes.
func Hex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func gobOf(v any) []byte {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Cases are, per codec, the shapes its own ecosystem produces for a
// two-field message and bodies that are valid in the format but of the
// wrong shape. cmd/rpcbench sends the same bodies to a real server.
var Cases = map[string][]Case{
	"json": {
		{Name: "object", Body: []byte(`{"a":1,"b":2}`), Want: AddArgs{1, 2}},
		{Name: "Go field names", Body: []byte(`{"A":1,"B":2}`), Want: AddArgs{1, 2}},
		{Name: "large integer", Body: []byte(`{"a":9007199254740993,"b":0}`), Want: AddArgs{9007199254740993, 0}},
		{Name: "empty object", Body: []byte(`{}`), Want: AddArgs{}},
		{Name: "unknown key", Body: []byte(`{"a":1,"c":2}`), Refuse: `unknown field "c"`},
		{Name: "array", Body: []byte(`[1,2]`), Refuse: "array"},
		{Name: "null", Body: []byte(` null`), Refuse: "null"},
		{Name: "string number", Body: []byte(`{"a":"1"}`), Refuse: "string"},
		{Name: "fraction", Body: []byte(`{"a":1.5}`), Refuse: "1.5"},
		{Name: "trailing value", Body: []byte(`{"a":1} {"b":2}`), Refuse: "after"},
	},
	"msgpack": {
		{Name: "map (other languages)", Body: Hex("82 a1 61 01 a1 62 02"), Want: AddArgs{1, 2}},
		{Name: "array (structs as arrays)", Body: Hex("92 01 02"), Want: AddArgs{1, 2}},
		{Name: "map with uint64 values", Body: Hex("82 a1 61 cf 00 20 00 00 00 00 00 01 a1 62 00"), Want: AddArgs{9007199254740993, 0}},
		{Name: "empty map", Body: Hex("80"), Want: AddArgs{}},
		{Name: "Go field names", Body: Hex("82 a1 41 01 a1 42 02"), Refuse: `unknown field "A"`},
		{Name: "unknown key", Body: Hex("82 a1 61 01 a1 63 02"), Refuse: `unknown field "c"`},
		{Name: "short array", Body: Hex("91 01"), Refuse: "array"},
		{Name: "long array", Body: Hex("93 01 02 03"), Refuse: "array"},
		{Name: "empty array", Body: Hex("90"), Refuse: "empty array"},
		{Name: "nil", Body: Hex("c0"), Refuse: "nil"},
		{Name: "integer", Body: Hex("05"), Refuse: "msgpack"},
		{Name: "string value", Body: Hex("82 a1 61 a1 31 a1 62 02"), Refuse: "msgpack"},
	},
	"cbor": {
		{Name: "map", Body: Hex("a2 61 61 01 61 62 02"), Want: AddArgs{1, 2}},
		{Name: "Go field names", Body: Hex("a2 61 41 01 61 42 02"), Want: AddArgs{1, 2}},
		{Name: "empty map", Body: Hex("a0"), Want: AddArgs{}},
		{Name: "unknown key", Body: Hex("a2 61 61 01 61 63 02"), Refuse: "unknown field"},
		{Name: "array", Body: Hex("82 01 02"), Refuse: "array"},
		{Name: "null", Body: Hex("f6"), Refuse: "null"},
		{Name: "undefined", Body: Hex("f7"), Refuse: "null"},
		{Name: "text value", Body: Hex("a1 61 61 61 31"), Refuse: "string"},
	},
	"gob": {
		{Name: "same fields, other type", Body: gobOf(struct{ A, B int64 }{1, 2}), Want: AddArgs{1, 2}},
		{Name: "narrower integers", Body: gobOf(struct{ A, B int8 }{1, 2}), Want: AddArgs{1, 2}},
		{Name: "no field in common", Body: gobOf(struct{ C int64 }{1}), Refuse: "no fields matched"},
		{Name: "not a struct", Body: gobOf(int64(3)), Refuse: "gob"},
		{Name: "string field", Body: gobOf(struct{ A string }{"1"}), Refuse: "gob"},
	},
	"xml": {
		{Name: "elements", Body: []byte(`<AddArgs><A>1</A><B>2</B></AddArgs>`), Want: AddArgs{1, 2}},
		{Name: "with declaration", Body: []byte("<?xml version=\"1.0\"?>\n<AddArgs>\n  <A>1</A>\n  <B>2</B>\n</AddArgs>\n"), Want: AddArgs{1, 2}},
		{Name: "empty element", Body: []byte(`<AddArgs/>`), Want: AddArgs{}},
		{Name: "json names", Body: []byte(`<AddArgs><a>1</a><b>2</b></AddArgs>`), Refuse: "unknown element <a>"},
		{Name: "unknown element", Body: []byte(`<AddArgs><A>1</A><C>2</C></AddArgs>`), Refuse: "unknown element <C>"},
		{Name: "text value", Body: []byte(`<AddArgs><A>x</A></AddArgs>`), Refuse: "invalid syntax"},
		{Name: "trailing element", Body: []byte(`<AddArgs/><AddArgs/>`), Refuse: "after"},
	},
	"raw": {
		{Name: "bytes into a message", Body: []byte("12"), Refuse: "cannot unmarshal"},
	},
}

// fastjson (go-json) reads the same text as encoding/json.
func init() { Cases["fastjson"] = Cases["json"] }
