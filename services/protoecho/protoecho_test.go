package protoecho_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/protoload"
	"rpcbench/services/protoecho"
	"rpcbench/targets/greeter/greetpb"
	"rpcbench/transports"
	_ "rpcbench/transports/all"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// A server that knows greet.v1.HelloRequest only from a protoset file
// echoes it over TCP as a typed handler would: the generated type's bytes
// come back decoded field by field, and bytes of another message type are
// refused, not echoed as a zero message.
func TestEchoFromProtoset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "greet.protoset")
	if err := protoload.WriteProtoset(path, greetpb.File_greet_proto); err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	t.Cleanup(func() { srv.Close() })
	if err := protoecho.RegisterFile(srv, path, []string{"greet.v1.HelloRequest"}); err != nil {
		t.Fatal(err)
	}
	if err := protoecho.RegisterFile(rpcbench.NewServer(rpcbench.ServerOptions{}), path, []string{"greet.v1.Nope"}); err == nil {
		t.Error("an unknown message registered")
	}
	tr, _ := transports.New("tcp", transports.Options{})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := rpcbench.Dial(ctx, tr, l.Addr().String(), rpcbench.ClientOptions{Codec: "proto"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	method := protoecho.Method("greet.v1.HelloRequest")
	req := &greetpb.HelloRequest{Name: "Ann", Times: 3, Tags: []string{"a", "b"}}
	resp := new(greetpb.HelloRequest)
	if err := c.Call(ctx, method, req, resp); err != nil || !proto.Equal(req, resp) {
		t.Fatalf("echo %v: %v", resp, err)
	}
	md, _ := protoload.Message(mustFiles(t, path), "greet.v1.HelloRequest")
	dyn := dynamicpb.NewMessage(md)
	if err := c.Call(ctx, method, req, dyn); err != nil || dyn.Get(md.Fields().ByName("name")).String() != "Ann" {
		t.Fatalf("dynamic reply %v: %v", dyn, err)
	}
	other := &descriptorpb.FileDescriptorProto{Name: proto.String("x"), MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M")}}}
	err = c.Call(ctx, method, other, resp)
	var e *rpcbench.Error
	if !errors.As(err, &e) || e.Code != rpcbench.CodeBadRequest {
		t.Errorf("another message type: %v, want bad_request", err)
	}

	jc, err := rpcbench.Dial(ctx, tr, l.Addr().String(), rpcbench.ClientOptions{Codec: "json"})
	if err != nil {
		t.Fatal(err)
	}
	defer jc.Close()
	in := map[string]any{"name": "Ann", "tags": []any{"a"}}
	out := map[string]any{}
	if err := jc.Call(ctx, protoecho.MethodGeneric, &in, &out); err != nil || out["name"] != "Ann" {
		t.Errorf("generic echo %v: %v", out, err)
	}
}

func mustFiles(t *testing.T, path string) *protoregistry.Files {
	t.Helper()
	f, err := protoload.ReadProtoset(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
