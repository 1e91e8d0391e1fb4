package rpcbench

import (
	"context"
	"reflect"
)

// HandleDynamic registers a handler for a message whose type is known only
// at run time, such as a protobuf message built from a descriptor
// (dynamicpb), which new(T) cannot make. newReq returns a fresh decode
// target for each call; the handler's reply is encoded with the caller's
// codec, as Handle's is. MethodInfo gives newReq's type for both request
// and reply, as for an echo. newReq and fn are called concurrently.
func HandleDynamic(s *Server, name string, newReq func() any, fn func(context.Context, any) (any, error), opts ...MethodOption) error {
	t := reflect.TypeOf(newReq())
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	opts = append(opts, typed(t, t))
	return s.register(name, opts, typedHandler(name, newReq, fn))
}
