package peers

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"rpcbench/codecs/benchmsg"
	"rpcbench/target"
)

// The gRPC service equivalent to rpcbench's Bench.Echo* methods:
// /rpcbench.Bench/EchoSmall, EchoMedium, EchoLarge, EchoBlob. It is
// registered by hand (a ServiceDesc), which is what protoc-gen-go-grpc
// would generate; messages go through gRPC's default protobuf codec.
const grpcService = "rpcbench.Bench"

// benchService is the handler type of the hand-written service.
type benchService interface{}

type benchServer struct{}

func grpcEcho[M any, PM interface {
	*M
	proto.Message
}](_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	m := PM(new(M))
	if err := dec(m); err != nil {
		return nil, err
	}
	return m, nil
}

var grpcDesc = grpc.ServiceDesc{
	ServiceName: grpcService,
	HandlerType: (*benchService)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "EchoSmall", Handler: grpcEcho[benchmsg.Small]},
		{MethodName: "EchoMedium", Handler: grpcEcho[benchmsg.Medium]},
		{MethodName: "EchoLarge", Handler: grpcEcho[benchmsg.Large]},
		{MethodName: "EchoBlob", Handler: grpcEcho[benchmsg.Blob]},
	},
	Metadata: "benchmsg.proto",
}

// grpcMethod is the full method name echoing payload's message type.
func grpcMethod(v any) (string, error) {
	switch v.(type) {
	case *benchmsg.Small:
		return "/" + grpcService + "/EchoSmall", nil
	case *benchmsg.Medium:
		return "/" + grpcService + "/EchoMedium", nil
	case *benchmsg.Large:
		return "/" + grpcService + "/EchoLarge", nil
	case *benchmsg.Blob:
		return "/" + grpcService + "/EchoBlob", nil
	}
	return "", fmt.Errorf("peers: grpc: no echo method for %T", v)
}

func init() {
	add("grpc", target.Peer{
		Serve:     serveGRPC,
		NewTarget: newGRPCTarget,
		Settings: func() map[string]string {
			return map[string]string{
				"connections":  "the cell's connections dimension, one grpc.ClientConn each (default 1 shared)",
				"multiplexing": "HTTP/2 streams, one unary call per stream",
				"codec":        "protobuf (gRPC's default codec, google.golang.org/protobuf " + moduleVersion("google.golang.org/protobuf") + ")",
				"compression":  "none",
				"buffers":      "gRPC defaults (32 KiB read/write buffers, 64 KiB initial windows with BDP estimation)",
				"tls":          "none (insecure credentials)",
				"service":      "hand-written ServiceDesc /rpcbench.Bench/Echo{Small,Medium,Large,Blob}; the handler decodes into a fresh message and returns it",
				"grpc":         moduleVersion("google.golang.org/grpc"),
				"go":           moduleVersion("std"),
			}
		},
	})
}

func serveGRPC(addr string) (string, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	s := grpc.NewServer(grpc.MaxRecvMsgSize(65<<20), grpc.MaxSendMsgSize(65<<20))
	s.RegisterService(&grpcDesc, benchServer{})
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return ln.Addr().String(), func() error {
		s.Stop()
		return <-done
	}, nil
}

type grpcTarget struct {
	addr   string
	method string
	req    any
	zero   func() any
}

func newGRPCTarget(cfg target.PeerConfig) (target.Target, error) {
	req, err := benchmsg.New(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	method, err := grpcMethod(req)
	if err != nil {
		return nil, err
	}
	zero, err := benchmsg.ZeroFunc(cfg.Payload)
	if err != nil {
		return nil, err
	}
	return &grpcTarget{addr: cfg.Addr, method: method, req: req, zero: zero}, nil
}

func (t *grpcTarget) Dial(ctx context.Context) (target.Conn, error) {
	cc, err := grpc.NewClient("passthrough:///"+t.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(65<<20), grpc.MaxCallSendMsgSize(65<<20)))
	if err != nil {
		return nil, err
	}
	return &grpcConn{t: t, cc: cc}, nil
}

func (t *grpcTarget) Verify(ctx context.Context, c target.Conn) error {
	gc, ok := c.(*grpcConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	resp := t.zero()
	if err := gc.cc.Invoke(ctx, t.method, t.req, resp); err != nil {
		return fmt.Errorf("peers: grpc: first call: %w", err)
	}
	if !benchmsg.Equal(t.req, resp) {
		return fmt.Errorf("peers: grpc: echo came back different")
	}
	return nil
}

type grpcConn struct {
	t  *grpcTarget
	cc *grpc.ClientConn
}

// NewCaller reuses one reply message per worker (gRPC's codec resets it
// before decoding), as rpctarget does.
func (c *grpcConn) NewCaller() (target.Caller, error) {
	resp := c.t.zero()
	cc, method, req := c.cc, c.t.method, c.t.req
	return func(ctx context.Context) error { return cc.Invoke(ctx, method, req, resp) }, nil
}

func (c *grpcConn) Close() error { return c.cc.Close() }
