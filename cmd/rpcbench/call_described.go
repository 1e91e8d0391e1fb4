package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"rpcbench"
	"rpcbench/services/admin"
)

// describedMessages builds the request and a reply value of a method this
// binary does not know from the server's description of its methods
// (Admin.Describe): struct types with the same fields, in the same order,
// under the same names, so that codecs that encode structs by position
// (msgpack) or by Go field name (gob) encode them as the server's own
// types.
func describedMessages(ctx context.Context, t rpcbench.Transport, addr, method, body string) (req, resp any, err error) {
	dc, err := rpcbench.Dial(ctx, t, addr, rpcbench.ClientOptions{Codec: "json", HeartbeatInterval: -1})
	if err != nil {
		return nil, nil, callError(err, "json")
	}
	defer dc.Close()
	var d admin.Description
	if err := dc.Call(ctx, admin.MethodDescribe, &admin.Args{}, &d); err != nil {
		return nil, nil, clientSide("this client does not know %s's request type and the server does not describe its methods (%v): call it with --codec json", method, err)
	}
	i := slices.IndexFunc(d.Methods, func(m admin.MethodDesc) bool { return m.Name == method })
	if i < 0 {
		names := make([]string, len(d.Methods))
		for j, m := range d.Methods {
			names[j] = m.Name
		}
		return nil, nil, usageError("call: the server has no method %s (methods: %s)", method, strings.Join(names, ", "))
	}
	md := d.Methods[i]
	if md.Request == "" { // a raw method: bytes as they are
		var s string
		if json.Unmarshal([]byte(body), &s) != nil {
			return nil, nil, usageError("call: %s takes bytes: give them as a JSON string", method)
		}
		return []byte(s), new([]byte), nil
	}
	reqT, err := describedStruct(md.Request, md.RequestFields)
	if err != nil {
		return nil, nil, clientSide("%s: %v: call it with --codec json", method, err)
	}
	respT, err := describedStruct(md.Reply, md.ReplyFields)
	if err != nil {
		return nil, nil, clientSide("%s: %v: call it with --codec json", method, err)
	}
	req = reflect.New(reqT).Interface()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return nil, nil, usageError("call: the request does not fit %s's request type %s: %v (see: rpcbench call Admin.Describe)", method, md.Request, err)
	}
	return req, reflect.New(respT).Interface(), nil
}

// describedTypes are the field types a described struct may have.
var describedTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{false, "", int(0), int8(0), int16(0), int32(0), int64(0), uint(0), uint8(0), uint16(0), uint32(0), uint64(0), float32(0), float64(0)} {
		t := reflect.TypeOf(v)
		describedTypes[t.String()] = t
		describedTypes["[]"+t.String()] = reflect.SliceOf(t)
	}
	describedTypes["map[string]string"] = reflect.TypeFor[map[string]string]()
}

// describedStruct is a struct type with the described fields, tagged with
// their JSON names for every codec that reads tags.
func describedStruct(name string, fields []admin.FieldDesc) (reflect.Type, error) {
	if fields == nil {
		return nil, fmt.Errorf("the server describes %s without its fields (an older server?)", name)
	}
	var sf []reflect.StructField
	for _, f := range fields {
		ft, ok := describedTypes[f.Type]
		if !ok {
			return nil, fmt.Errorf("%s's field %s has type %s, which a client without the type cannot build", name, f.Name, f.Type)
		}
		tag := fmt.Sprintf(`json:"%[1]s" msgpack:"%[1]s" cbor:"%[1]s" xml:"%[1]s"`, f.Name)
		sf = append(sf, reflect.StructField{Name: f.GoName, Type: ft, Tag: reflect.StructTag(tag)})
	}
	return reflect.StructOf(sf), nil
}
