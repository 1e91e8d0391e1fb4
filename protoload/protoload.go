// Package protoload finds the protobuf descriptors of a user's service and
// messages — from .proto files (compiled in process by
// github.com/bufbuild/protocompile, no protoc needed), from a protoset
// file (a serialized FileDescriptorSet, as protoc --descriptor_set_out
// writes), or from a running server's gRPC reflection service — and builds
// dynamic messages (dynamicpb) from JSON in protobuf's JSON mapping.
//
// Every error is one line that names what is wrong: the file and line of a
// .proto syntax error, the services or methods that do exist, the field of
// the JSON that does not fit the message.
package protoload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Compile parses and links .proto files. Each file is found relative to
// one of importPaths; with none, relative to its own directory (which is
// then the import path), as ghz and protoc users expect. The well-known
// types (google/protobuf/*.proto) are always available.
func Compile(ctx context.Context, files, importPaths []string) (*protoregistry.Files, error) {
	if len(files) == 0 {
		return nil, errors.New("protoload: no .proto file given")
	}
	names := slices.Clone(files)
	if len(importPaths) == 0 {
		dirs := map[string]bool{}
		for i, f := range files {
			dir := filepath.Dir(f)
			if !dirs[dir] {
				dirs[dir] = true
				importPaths = append(importPaths, dir)
			}
			names[i] = filepath.Base(f)
		}
	} else {
		for i, f := range files {
			names[i] = relativeTo(f, importPaths)
		}
	}
	var first error
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: importPaths}),
		// Keep the first error only: it carries file:line:col, and the
		// later ones usually follow from it.
		Reporter: reporter.NewReporter(func(err reporter.ErrorWithPos) error {
			if first == nil {
				first = err
			}
			return err
		}, nil),
	}
	res, err := c.Compile(ctx, names...)
	if err != nil {
		if first != nil {
			err = first
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("protoload: %v (import paths: %s)", err, strings.Join(importPaths, ", "))
		}
		return nil, fmt.Errorf("protoload: %w", err)
	}
	reg := new(protoregistry.Files)
	for _, f := range res {
		if err := register(reg, f); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// relativeTo turns f into a path relative to the import path containing
// it, so that "--proto api/greet.proto --import-paths api" works as well as
// "--proto greet.proto --import-paths api".
func relativeTo(f string, importPaths []string) string {
	for _, ip := range importPaths {
		if rel, err := filepath.Rel(ip, f); err == nil && !strings.HasPrefix(rel, "..") {
			if _, err := os.Stat(f); err == nil {
				return filepath.ToSlash(rel)
			}
		}
	}
	return f
}

// register adds f and, first, everything it imports.
func register(reg *protoregistry.Files, f protoreflect.FileDescriptor) error {
	if _, err := reg.FindFileByPath(f.Path()); err == nil {
		return nil
	}
	imps := f.Imports()
	for i := 0; i < imps.Len(); i++ {
		if err := register(reg, imps.Get(i).FileDescriptor); err != nil {
			return err
		}
	}
	if err := reg.RegisterFile(f); err != nil {
		return fmt.Errorf("protoload: %s: %w", f.Path(), err)
	}
	return nil
}

// ReadProtoset reads a serialized FileDescriptorSet. It must hold every
// file's imports (protoc --include_imports).
func ReadProtoset(path string) (*protoregistry.Files, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("protoload: %w", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("protoload: %s is not a protoset (a serialized FileDescriptorSet): %v", path, err)
	}
	return newFiles(path, &set)
}

func newFiles(from string, set *descriptorpb.FileDescriptorSet) (*protoregistry.Files, error) {
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("protoload: %s: %v (a protoset needs every import: protoc --include_imports)", from, err)
	}
	return reg, nil
}

// Services lists the service names in files, sorted.
func Services(files *protoregistry.Files) []string {
	var out []string
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := 0; i < f.Services().Len(); i++ {
			out = append(out, string(f.Services().Get(i).FullName()))
		}
		return true
	})
	slices.Sort(out)
	return out
}

// Method finds a method by the name ghz and grpcurl accept:
// pkg.Service/Method, pkg.Service.Method, or with a leading slash.
func Method(files *protoregistry.Files, call string) (protoreflect.MethodDescriptor, error) {
	c := strings.TrimPrefix(strings.TrimSpace(call), "/")
	svc, m, ok := strings.Cut(c, "/")
	if !ok {
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			return nil, fmt.Errorf("protoload: call %q: want pkg.Service/Method", call)
		}
		svc, m = c[:i], c[i+1:]
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(svc))
	sd, isSvc := d.(protoreflect.ServiceDescriptor)
	if err != nil || !isSvc {
		return nil, fmt.Errorf("protoload: unknown service %q (services: %s)", svc, listOrNone(Services(files)))
	}
	md := sd.Methods().ByName(protoreflect.Name(m))
	if md == nil {
		var names []string
		for i := 0; i < sd.Methods().Len(); i++ {
			names = append(names, string(sd.Methods().Get(i).Name()))
		}
		return nil, fmt.Errorf("protoload: service %s has no method %q (methods: %s)", svc, m, listOrNone(names))
	}
	if md.IsStreamingClient() || md.IsStreamingServer() {
		return nil, fmt.Errorf("protoload: %s is a streaming method; only unary calls are measured", md.FullName())
	}
	return md, nil
}

// Message finds a message type by its full name.
func Message(files *protoregistry.Files, name string) (protoreflect.MessageDescriptor, error) {
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if md, ok := d.(protoreflect.MessageDescriptor); err == nil && ok {
		return md, nil
	}
	var names []string
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := 0; i < f.Messages().Len(); i++ {
			names = append(names, string(f.Messages().Get(i).FullName()))
		}
		return true
	})
	slices.Sort(names)
	return nil, fmt.Errorf("protoload: unknown message %q (messages: %s)", name, listOrNone(names))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// FromJSON builds a message of type md from JSON in protobuf's JSON
// mapping. Unknown fields are errors: a misspelt field name is the most
// common mistake in hand-written request data, and it names the field.
func FromJSON(md protoreflect.MessageDescriptor, data []byte) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("does not match %s: %v", md.FullName(), strings.TrimPrefix(err.Error(), "proto: "))
	}
	return m, nil
}

// Protoset is the descriptor set of f and every file it imports,
// imports first: what protoc --include_imports writes for f, and what
// ReadProtoset reads back.
func Protoset(f protoreflect.FileDescriptor) *descriptorpb.FileDescriptorSet {
	set := new(descriptorpb.FileDescriptorSet)
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	add(f)
	return set
}

// WriteProtoset writes Protoset(f) to path.
func WriteProtoset(path string, f protoreflect.FileDescriptor) error {
	b, err := proto.Marshal(Protoset(f))
	if err != nil {
		return fmt.Errorf("protoload: %s: %w", f.Path(), err)
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadFile loads the descriptors in path: a .proto file, compiled with its
// directory as the import path, or else a protoset.
func ReadFile(path string) (*protoregistry.Files, error) {
	if strings.HasSuffix(path, ".proto") {
		return Compile(context.Background(), []string{path}, nil)
	}
	return ReadProtoset(path)
}
