// Package grpctarget is the external target of a gRPC service
// (grpc://HOST:PORT, grpcs://HOST:PORT): unary calls to any method,
// described by .proto files, a protoset, or the server's reflection
// service.
//
// Requests are built from JSON data once, before the run, and sent as
// ready-encoded bytes; templated data is rendered and encoded per call.
// Replies are read as bytes and not decoded, except the first call's,
// which Verify decodes as the method's output type. So the client's cost
// per call is gRPC's own, not a dynamic message's.
package grpctarget

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"rpcbench/protoload"
	"rpcbench/target"
	"rpcbench/targets"
	"rpcbench/wirestats"
)

// DialTimeout bounds the reachability check of Open when its context has
// no deadline.
const DialTimeout = 5 * time.Second

const maxMsg = 64 << 20

func init() {
	kind := func(targets.Def) targets.Kind { return targets.Kind{Transport: "grpc", Codec: "proto"} }
	targets.Register("grpc", targets.Opener{Open: Open, Kind: kind})
	targets.Register("grpcs", targets.Opener{Open: Open, Kind: kind})
}

type grpcTarget struct {
	def      targets.Def
	addr     string // the URL's HOST:PORT
	dial     string // where connections go: addr, or a relay
	creds    credentials.TransportCredentials
	method   string // /pkg.Service/Method
	in, out  protoreflect.MessageDescriptor
	reqs     *targets.Requests
	md       metadata.MD
	source   string
	nWorkers atomic.Int64
}

var _ targets.Target = (*grpcTarget)(nil)

// Open loads the method's descriptors, checks the data against its input
// type, and makes one call, so that a wrong address, a TLS failure, an
// unknown method or bad data is one error before any load.
func Open(ctx context.Context, d targets.Def) (targets.Target, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DialTimeout)
		defer cancel()
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, err
	}
	if d.Call == "" {
		return nil, fmt.Errorf("grpc target %s: no method: give --call pkg.Service/Method", d.URL)
	}
	t := &grpcTarget{def: d, addr: targets.HostPort(u, "443"), md: metadata.New(d.Metadata)}
	if u.Scheme == "grpc" {
		t.addr = targets.HostPort(u, "80")
	}
	t.dial = t.addr
	if t.creds, err = credsFor(u, d); err != nil {
		return nil, err
	}
	cc, err := t.newClient(t.dial)
	if err != nil {
		return nil, err
	}
	defer cc.Close()

	var files *protoregistry.Files
	switch {
	case len(d.Proto) > 0 && d.Protoset != "":
		return nil, errors.New("grpc target: give --proto or --protoset, not both")
	case len(d.Proto) > 0:
		files, err = protoload.Compile(ctx, d.Proto, d.ImportPaths)
		t.source = "proto files " + strings.Join(d.Proto, ", ")
	case d.Protoset != "":
		files, err = protoload.ReadProtoset(d.Protoset)
		t.source = "protoset " + d.Protoset
	default:
		files, err = protoload.Reflect(ctx, cc)
		t.source = "the server's reflection service"
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("grpc target %s unreachable within %v: %w", t.addr, DialTimeout, err)
		}
	}
	if err != nil {
		return nil, err
	}
	md, err := protoload.Method(files, d.Call)
	if err != nil {
		return nil, err
	}
	t.method = fmt.Sprintf("/%s/%s", md.Parent().FullName(), md.Name())
	t.in, t.out = md.Input(), md.Output()
	data, err := targets.ParseData(cmp.Or(d.Data, "{}"))
	if err != nil {
		return nil, err
	}
	in := t.in
	t.reqs, err = targets.NewRequests(data, func(dst, js []byte) ([]byte, error) {
		m, err := protoload.FromJSON(in, js)
		if err != nil {
			return nil, err
		}
		return proto.MarshalOptions{}.MarshalAppend(dst, m)
	})
	if err != nil {
		return nil, fmt.Errorf("grpc target %s: %v", d.Call, err)
	}
	if err := t.check(ctx, cc); err != nil {
		return nil, err
	}
	return t, nil
}

// credsFor builds the transport credentials: none for grpc://, TLS for
// grpcs://.
func credsFor(u *url.URL, d targets.Def) (credentials.TransportCredentials, error) {
	if u.Scheme == "grpc" {
		if d.CACert != "" || d.Cert != "" || d.SkipVerify {
			return nil, fmt.Errorf("grpc target %s: TLS options need grpcs://", d.URL)
		}
		return insecure.NewCredentials(), nil
	}
	cfg, err := targets.TLSConfig(u.Hostname(), d)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

func (t *grpcTarget) newClient(addr string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(t.creds)}
	if t.creds.Info().SecurityProtocol == "insecure" {
		// Through a relay, the :authority still names the target (TLS
		// credentials name it by their server name).
		opts = append(opts, grpc.WithAuthority(t.addr))
	}
	return grpc.NewClient("passthrough:///"+addr, append(opts,
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a)
			if err != nil {
				return nil, err
			}
			return wirestats.ClientConn(c), nil
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))...)
}

// check makes one call and decodes its reply as the output type.
func (t *grpcTarget) check(ctx context.Context, cc *grpc.ClientConn) error {
	req, err := t.reqs.Cursor(0).Next()
	if err != nil {
		return err
	}
	var resp []byte
	if len(t.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, t.md)
	}
	if err := cc.Invoke(ctx, t.method, &req, &resp, bytesCodec); err != nil {
		if s, ok := status.FromError(err); ok && s.Code() == codes.Unavailable || errors.Is(err, context.DeadlineExceeded) {
			msg := status.Convert(err).Message()
			if strings.Contains(msg, "authentication handshake failed") {
				return fmt.Errorf("grpc target %s: TLS handshake failed: %s", t.addr, msg)
			}
			return fmt.Errorf("grpc target %s unreachable: %s", t.addr, msg)
		}
		return fmt.Errorf("grpc target %s: first call of %s failed: %v", t.addr, t.method, statusErr(err))
	}
	if err := proto.Unmarshal(resp, dynamicpb.NewMessage(t.out)); err != nil {
		return fmt.Errorf("grpc target %s: the reply of %s is not a %s: %v", t.addr, t.method, t.out.FullName(), err)
	}
	return nil
}

func (t *grpcTarget) Addr() string    { return t.addr }
func (t *grpcTarget) Network() string { return "tcp" }

func (t *grpcTarget) Via(addr string) targets.Target {
	c := &grpcTarget{def: t.def, addr: t.addr, dial: addr, creds: t.creds, method: t.method, in: t.in, out: t.out, reqs: t.reqs, md: t.md, source: t.source}
	return c
}

func (t *grpcTarget) Settings() map[string]string {
	s := map[string]string{
		"kind":        "gRPC unary calls",
		"url":         t.def.URL,
		"method":      t.method,
		"types":       fmt.Sprintf("%s -> %s, from %s", t.in.FullName(), t.out.FullName(), t.source),
		"requests":    "encoded from the JSON data once before the run (templates: per call); replies read as bytes, decoded only by the first-call check",
		"connections": "the cell's connections dimension, one grpc.ClientConn each; HTTP/2 streams multiplex its calls",
		"grpc":        moduleVersion("google.golang.org/grpc"),
		"server":      "external: its CPU, allocations and memory are not measured",
	}
	if len(t.md) > 0 {
		s["metadata"] = strings.Join(slices.Sorted(maps.Keys(t.md)), ", ")
	}
	if t.dial != t.addr {
		s["via"] = t.dial
	}
	return s
}

func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "unknown"
}

// Dial implements target.Target: one grpc.ClientConn, connected now.
func (t *grpcTarget) Dial(ctx context.Context) (target.Conn, error) {
	cc, err := t.newClient(t.dial)
	if err != nil {
		return nil, err
	}
	cc.Connect()
	return &conn{t: t, cc: cc}, nil
}

// Verify implements target.Verifier.
func (t *grpcTarget) Verify(ctx context.Context, c target.Conn) error {
	gc, ok := c.(*conn)
	if !ok {
		return fmt.Errorf("grpctarget: foreign connection %T", c)
	}
	return t.check(ctx, gc.cc)
}

type conn struct {
	t  *grpcTarget
	cc *grpc.ClientConn
}

func (c *conn) Close() error { return c.cc.Close() }

// NewCaller gives each worker its own cursor over the requests and its
// own reply buffer. The metadata context is built once per run context.
func (c *conn) NewCaller() (target.Caller, error) {
	t, cc := c.t, c.cc
	cur := t.reqs.Cursor(int(t.nWorkers.Add(1) - 1))
	var resp []byte
	var parent, withMD context.Context
	return func(ctx context.Context) error {
		req, err := cur.Next()
		if err != nil {
			return err
		}
		if len(t.md) > 0 {
			if ctx != parent {
				parent, withMD = ctx, metadata.NewOutgoingContext(ctx, t.md)
			}
			ctx = withMD
		}
		if err := cc.Invoke(ctx, t.method, &req, &resp, bytesCodec); err != nil {
			return statusErr(err)
		}
		return nil
	}, nil
}

// statusErr turns a gRPC error into one counted by its code.
func statusErr(err error) error {
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &targets.StatusError{Code: "grpc_" + snake(s.Code().String()), Msg: s.Message()}
}

// snake turns "DeadlineExceeded" into "deadline_exceeded".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// rawCodec sends and receives messages as ready-encoded bytes (*[]byte).
// Its name is "proto" so that the content type stays application/grpc+proto.
type rawCodec struct{}

// bytesCodec is the call option of every call the target makes; the
// reflection client, on the same connection, keeps gRPC's codec.
var bytesCodec = grpc.ForceCodecV2(rawCodec{})

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("grpctarget: cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpctarget: cannot receive into %T", v)
	}
	*b = (*b)[:0]
	for _, buf := range data {
		*b = append(*b, buf.ReadOnlyData()...)
	}
	return nil
}
