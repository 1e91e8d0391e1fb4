package rpcbench

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// handlerFunc decodes a request payload with codec, runs the method and
// appends the encoded reply to dst.
type handlerFunc func(ctx context.Context, codec Codec, req, dst []byte) ([]byte, error)

type method struct {
	name   string
	id     uint32
	fn     handlerFunc
	inline bool
	// req and reply are the message types of a typed method; nil for raw.
	req, reply reflect.Type
}

// MethodOption changes how a method is served.
type MethodOption func(*method)

// Inline runs the method on the goroutine that reads its connection
// instead of handing each call to a worker goroutine, and the replies of
// one read burst leave in one write. That saves a goroutine hand-off and a
// write per call, which is most of the cost of a call that does little
// work. It suits handlers that neither block nor run long (echo,
// arithmetic, an in-memory lookup): while one runs, its connection reads
// nothing else, so a slow inline handler delays every call behind it on
// that connection, including cancellations. The handler's context is
// valid only until it returns: an inline call's state is reused by later
// calls unless the handler asked for ctx.Done().
func Inline() MethodOption { return func(m *method) { m.inline = true } }

// typed records a method's message types for MethodInfo.
func typed(req, reply reflect.Type) MethodOption {
	return func(m *method) { m.req, m.reply = req, reply }
}

// MethodInfo describes a registered method: its name and the Go types of
// its request and reply (nil for a raw method, whose bytes go through
// untouched in any codec).
type MethodInfo struct {
	Name           string
	Request, Reply reflect.Type
}

// MethodInfo lists the registered methods with their message types,
// sorted by name.
func (s *Server) MethodInfo() []MethodInfo {
	var out []MethodInfo
	for _, m := range *s.methods.Load() {
		out = append(out, MethodInfo{Name: m.name, Request: m.req, Reply: m.reply})
	}
	slices.SortFunc(out, func(a, b MethodInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// methodTable maps call IDs to methods. It is copied on write so that the
// per-call lookup needs no lock.
type methodTable map[uint32]*method

// Handle registers a typed handler: the request is decoded into a new Req,
// and the returned *Resp is encoded with the caller's codec.
func Handle[Req, Resp any](s *Server, name string, fn func(context.Context, *Req) (*Resp, error), opts ...MethodOption) error {
	opts = append(opts, typed(reflect.TypeFor[Req](), reflect.TypeFor[Resp]()))
	return s.register(name, opts, typedHandler(name, func() *Req { return new(Req) }, fn))
}

// typedHandler decodes each request into a value from newIn, runs fn and
// encodes its reply with the caller's codec.
func typedHandler[In, Out any](name string, newIn func() In, fn func(context.Context, In) (Out, error)) handlerFunc {
	return func(ctx context.Context, codec Codec, req, dst []byte) ([]byte, error) {
		in := newIn()
		if err := codec.Unmarshal(req, in); err != nil {
			return dst, Errorf(CodeBadRequest, "%s: decoding %s request: %v", name, codec.Name(), err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return dst, err
		}
		return marshalReply(codec, dst, out, name)
	}
}

// HandleRaw registers a handler that receives the request payload as is and
// whose returned bytes are the reply payload, whatever the codec. req is
// valid only until the handler returns.
func (s *Server) HandleRaw(name string, fn func(ctx context.Context, req []byte) ([]byte, error), opts ...MethodOption) error {
	return s.register(name, opts, func(ctx context.Context, _ Codec, req, dst []byte) ([]byte, error) {
		out, err := fn(ctx, req)
		if err != nil {
			return dst, err
		}
		return append(dst, out...), nil
	})
}

func marshalReply(codec Codec, dst []byte, v any, name string) ([]byte, error) {
	out, err := codec.Marshal(dst, v)
	if err != nil {
		return dst, Errorf(CodeInternal, "%s: encoding %s reply: %v", name, codec.Name(), err)
	}
	return out, nil
}

var (
	typeOfError   = reflect.TypeFor[error]()
	typeOfContext = reflect.TypeFor[context.Context]()
)

// Register publishes the exported methods of rcvr, in the manner of net/rpc,
// under the name of its concrete type: "Type.Method". A method qualifies if
// it has the form
//
//	func (t *T) Method(args *A, reply *R) error
//	func (t *T) Method(ctx context.Context, args *A, reply *R) error
//
// Other methods are skipped; a receiver with none is an error.
func (s *Server) Register(rcvr any) error {
	t := reflect.TypeOf(rcvr)
	name := reflect.Indirect(reflect.ValueOf(rcvr)).Type().Name()
	if name == "" {
		return fmt.Errorf("rpcbench: Register: cannot name the type of %v; use RegisterName", t)
	}
	return s.RegisterName(name, rcvr)
}

// RegisterName is Register with an explicit service name.
func (s *Server) RegisterName(service string, rcvr any) error {
	v := reflect.ValueOf(rcvr)
	t := v.Type()
	n := 0
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		fn, ok := reflectHandler(service+"."+m.Name, v.Method(i))
		if !ok {
			continue
		}
		ft := m.Type
		types := typed(ft.In(ft.NumIn()-2).Elem(), ft.In(ft.NumIn()-1).Elem())
		if err := s.register(service+"."+m.Name, []MethodOption{types}, fn); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("rpcbench: Register: type %v has no exported methods of the form Method(*Args, *Reply) error", t)
	}
	return nil
}

func reflectHandler(name string, fv reflect.Value) (handlerFunc, bool) {
	ft := fv.Type()
	withCtx := ft.NumIn() == 3 && ft.In(0) == typeOfContext
	if !withCtx && ft.NumIn() != 2 {
		return nil, false
	}
	argsT, replyT := ft.In(ft.NumIn()-2), ft.In(ft.NumIn()-1)
	if argsT.Kind() != reflect.Pointer || replyT.Kind() != reflect.Pointer ||
		ft.NumOut() != 1 || ft.Out(0) != typeOfError {
		return nil, false
	}
	return func(ctx context.Context, codec Codec, req, dst []byte) ([]byte, error) {
		args := reflect.New(argsT.Elem())
		if err := codec.Unmarshal(req, args.Interface()); err != nil {
			return dst, Errorf(CodeBadRequest, "%s: decoding %s request: %v", name, codec.Name(), err)
		}
		reply := reflect.New(replyT.Elem())
		in := []reflect.Value{args, reply}
		if withCtx {
			in = []reflect.Value{reflect.ValueOf(ctx), args, reply}
		}
		if errv := fv.Call(in)[0]; !errv.IsNil() {
			return dst, errv.Interface().(error)
		}
		return marshalReply(codec, dst, reply.Interface(), name)
	}, true
}
