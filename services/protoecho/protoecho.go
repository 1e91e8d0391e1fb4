// Package protoecho echoes protobuf messages whose types the server learns
// at run time, from a descriptor set, so that a user's own message can be
// the payload of a benchmark cell: the server decodes each request and
// encodes the reply as a typed handler would, with a dynamic message
// (dynamicpb) for the proto codec and with the message's generic form
// (its protobuf JSON mapping as map[string]any) for the generic codecs
// (json, fastjson, msgpack, cbor).
package protoecho

import (
	"context"
	"fmt"

	"rpcbench"
	"rpcbench/protoload"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Service is the service name of the echo methods.
const Service = "ProtoEcho"

// MethodGeneric echoes any message in its generic form.
const MethodGeneric = Service + ".Generic"

// Method is the name of the method that echoes message msg (a full name,
// "pkg.Msg") as a dynamic protobuf message.
func Method(msg protoreflect.FullName) string { return Service + "." + string(msg) }

// Register adds to srv the echo of each message type md and, once, the
// generic echo.
func Register(srv *rpcbench.Server, mds ...protoreflect.MessageDescriptor) error {
	for _, md := range mds {
		newMsg := func() any { return dynamicpb.NewMessage(md) }
		echo := func(_ context.Context, req any) (any, error) { return req, nil }
		if err := rpcbench.HandleDynamic(srv, Method(md.FullName()), newMsg, echo, rpcbench.Inline()); err != nil {
			return err
		}
	}
	return rpcbench.Handle(srv, MethodGeneric, func(_ context.Context, m *map[string]any) (*map[string]any, error) {
		return m, nil
	}, rpcbench.Inline())
}

// RegisterFile adds the echo of the named messages, whose descriptors
// are in the file at path: a .proto file (compiled in process, its
// directory the import path) or a protoset (a serialized
// FileDescriptorSet with every import, as protoc --include_imports
// writes); and the generic echo.
func RegisterFile(srv *rpcbench.Server, path string, messages []string) error {
	if len(messages) == 0 {
		return fmt.Errorf("protoecho: %s: no message named to echo", path)
	}
	files, err := protoload.ReadFile(path)
	if err != nil {
		return err
	}
	var mds []protoreflect.MessageDescriptor
	for _, name := range messages {
		md, err := protoload.Message(files, name)
		if err != nil {
			return fmt.Errorf("protoecho: %s: %w", path, err)
		}
		mds = append(mds, md)
	}
	return Register(srv, mds...)
}
