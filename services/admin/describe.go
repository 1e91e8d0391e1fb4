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
}

// DescribeMethods describes the methods of srv.
func DescribeMethods(srv *rpcbench.Server) Description {
	var d Description
	for _, m := range srv.MethodInfo() {
		md := MethodDesc{Name: m.Name}
		if m.Request != nil {
			md.Request, md.Reply, md.Fields = m.Request.String(), m.Reply.String(), jsonFields(m.Request)
		}
		d.Methods = append(d.Methods, md)
	}
	return d
}

// jsonFields lists a struct's fields as encoding/json names them.
func jsonFields(t reflect.Type) map[string]string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fs := map[string]string{}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || f.Anonymous || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs[name] = f.Type.String()
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
