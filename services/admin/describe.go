package admin

import (
	"context"
	"reflect"
	"strings"

	"rpcbench"
)

// MethodDescribe lists a server's methods and their message types, so
// that a client (rpcbench call) can build a request of the right type for
// any codec, and a user can see what to send.
const MethodDescribe = "Admin.Describe"

// Description is Admin.Describe's reply, in Codec.
type Description struct {
	Methods []MethodDesc `json:"methods"`
}

// MethodDesc is one method: its message types as Go names
// ("services.AddArgs"; empty for a raw method, which takes any bytes) and
// the request's fields as JSON names and Go types.
type MethodDesc struct {
	Name    string            `json:"name"`
	Request string            `json:"request,omitempty"`
	Reply   string            `json:"reply,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
	// RequestFields and ReplyFields are the messages' fields in their
	// order, so that a client without the types can build equal ones
	// (rpcbench call): codecs that encode structs by position or by Go
	// field name (msgpack's arrays, gob) need both.
	RequestFields []FieldDesc `json:"request_fields,omitempty"`
	ReplyFields   []FieldDesc `json:"reply_fields,omitempty"`
}

// FieldDesc is one field of a message: its JSON and Go names and Go type.
type FieldDesc struct {
	Name   string `json:"name"`
	GoName string `json:"go_name"`
	Type   string `json:"type"`
}

// DescribeMethods describes the methods of srv.
func DescribeMethods(srv *rpcbench.Server) Description {
	var d Description
	for _, m := range srv.MethodInfo() {
		md := MethodDesc{Name: m.Name}
		if m.Request != nil {
			md.Request, md.Reply, md.Fields = m.Request.String(), m.Reply.String(), jsonFields(m.Request)
			md.RequestFields, md.ReplyFields = fieldList(m.Request), fieldList(m.Reply)
		}
		d.Methods = append(d.Methods, md)
	}
	return d
}

// jsonFields maps a struct's fields, as encoding/json names them, to
// their types.
func jsonFields(t reflect.Type) map[string]string {
	list := fieldList(t)
	if list == nil {
		return nil
	}
	fs := map[string]string{}
	for _, f := range list {
		fs[f.Name] = f.Type
	}
	return fs
}

// fieldList lists a struct's exported fields in order, named as
// encoding/json names them.
func fieldList(t reflect.Type) []FieldDesc {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fs := []FieldDesc{}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs = append(fs, FieldDesc{Name: name, GoName: f.Name, Type: f.Type.String()})
	}
	return fs
}

// RegisterDescribe adds Admin.Describe to srv. It describes the methods
// registered when it is called, not at registration.
func RegisterDescribe(srv *rpcbench.Server) error {
	return rpcbench.Handle(srv, MethodDescribe, func(context.Context, *Args) (*Description, error) {
		d := DescribeMethods(srv)
		return &d, nil
	})
}
