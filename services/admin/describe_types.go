package admin

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"rpcbench"
)

// FetchDescription asks the server at addr for its Description, over a
// connection of its own in the json codec.
func FetchDescription(ctx context.Context, t rpcbench.Transport, addr string) (Description, error) {
	c, err := rpcbench.Dial(ctx, t, addr, rpcbench.ClientOptions{Codec: "json", HeartbeatInterval: -1})
	if err != nil {
		return Description{}, err
	}
	defer c.Close()
	var d Description
	err = c.Call(ctx, MethodDescribe, &Args{}, &d)
	return d, err
}

// Method finds a method in d; the error lists the methods d has.
func (d Description) Method(name string) (MethodDesc, error) {
	i := slices.IndexFunc(d.Methods, func(m MethodDesc) bool { return m.Name == name })
	if i < 0 {
		names := make([]string, len(d.Methods))
		for j, m := range d.Methods {
			names[j] = m.Name
		}
		return MethodDesc{}, fmt.Errorf("the server has no method %s (methods: %s)", name, strings.Join(names, ", "))
	}
	return d.Methods[i], nil
}

// Types builds struct types equal to the method's request and reply: the
// same fields in the same order under the same Go names, tagged with
// their JSON names for every codec that reads tags, so that codecs that
// encode structs by position (msgpack's arrays) or by Go field name (gob)
// encode them as the server's own types do. Fields of other than basic
// types (and slices of them, map[string]string) cannot be built.
func (md MethodDesc) Types() (req, reply reflect.Type, err error) {
	if md.Request == "" {
		return nil, nil, fmt.Errorf("%s takes raw bytes, not a message", md.Name)
	}
	if req, err = structOf(md.Request, md.RequestFields); err != nil {
		return nil, nil, err
	}
	if reply, err = structOf(md.Reply, md.ReplyFields); err != nil {
		return nil, nil, err
	}
	return req, reply, nil
}

// fieldTypes are the field types Types can build.
var fieldTypes = map[string]reflect.Type{"map[string]string": reflect.TypeFor[map[string]string]()}

func init() {
	for _, v := range []any{false, "", int(0), int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0), uint16(0), uint32(0), uint64(0), float32(0), float64(0)} {
		t := reflect.TypeOf(v)
		fieldTypes[t.String()] = t
		fieldTypes["[]"+t.String()] = reflect.SliceOf(t)
	}
}

func structOf(name string, fields []FieldDesc) (reflect.Type, error) {
	if fields == nil {
		return nil, fmt.Errorf("the server describes %s without its fields (an older server?)", name)
	}
	var sf []reflect.StructField
	for _, f := range fields {
		ft, ok := fieldTypes[f.Type]
		if !ok {
			return nil, fmt.Errorf("%s's field %s has type %s, which a client without the type cannot build", name, f.Name, f.Type)
		}
		tag := fmt.Sprintf(`json:"%[1]s" msgpack:"%[1]s" cbor:"%[1]s" xml:"%[1]s"`, f.Name)
		sf = append(sf, reflect.StructField{Name: f.GoName, Type: ft, Tag: reflect.StructTag(tag)})
	}
	return reflect.StructOf(sf), nil
}
