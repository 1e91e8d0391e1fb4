package protoload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrNoReflection is returned by Reflect when the server does not serve
// gRPC's reflection service.
var ErrNoReflection = errors.New("protoload: the server has no reflection service (grpc.reflection.v1): give --proto FILE or --protoset FILE")

// Reflect asks a server's reflection service (grpc.reflection.v1) for
// every service it serves and the files that define them, with their
// imports.
func Reflect(ctx context.Context, cc grpc.ClientConnInterface) (*protoregistry.Files, error) {
	stream, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, reflectError(err)
	}
	defer stream.CloseSend()
	ask := func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
		if err := stream.Send(req); err != nil {
			if errors.Is(err, io.EOF) {
				// The server ended the stream (e.g. Unimplemented);
				// its status comes with the next Recv.
				if _, err = stream.Recv(); err == nil {
					err = io.ErrUnexpectedEOF
				}
			}
			return nil, reflectError(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return nil, reflectError(err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			return nil, fmt.Errorf("protoload: reflection: %s", e.GetErrorMessage())
		}
		return resp, nil
	}
	resp, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	var missing []string
	add := func(r *rpb.ServerReflectionResponse) error {
		for _, b := range r.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(b, fd); err != nil {
				return fmt.Errorf("protoload: reflection sent a bad file descriptor: %v", err)
			}
			if _, dup := files[fd.GetName()]; !dup {
				files[fd.GetName()] = fd
				missing = append(missing, fd.GetDependency()...)
			}
		}
		return nil
	}
	for _, s := range resp.GetListServicesResponse().GetService() {
		if strings.HasPrefix(s.GetName(), "grpc.reflection.") {
			continue
		}
		r, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: s.GetName()}})
		if err != nil {
			return nil, err
		}
		if err := add(r); err != nil {
			return nil, err
		}
	}
	// Servers usually send the imports with the file; fetch any they did not.
	for len(missing) > 0 {
		name := missing[len(missing)-1]
		missing = missing[:len(missing)-1]
		if _, ok := files[name]; ok {
			continue
		}
		r, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: name}})
		if err != nil {
			return nil, err
		}
		if err := add(r); err != nil {
			return nil, err
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range files {
		set.File = append(set.File, fd)
	}
	return newFiles("reflection", set)
}

func reflectError(err error) error {
	switch status.Code(err) {
	case codes.Unimplemented:
		return ErrNoReflection
	case codes.Unavailable, codes.DeadlineExceeded:
		return fmt.Errorf("protoload: reflection: server unreachable: %s", status.Convert(err).Message())
	}
	return fmt.Errorf("protoload: reflection: %v", err)
}
