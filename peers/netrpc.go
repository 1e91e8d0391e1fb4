package peers

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"

	"google.golang.org/protobuf/proto"

	"rpcbench/codecs/benchmsg"
	"rpcbench/target"
)

// NetRPCBench is the net/rpc service equivalent to rpcbench's Bench.Echo*
// methods. net/rpc makes the handler fill a reply it allocated, so the
// echo copies the request into it (proto.Merge).
type NetRPCBench struct{}

func netrpcEcho(req, resp proto.Message) error {
	proto.Merge(resp, req)
	return nil
}

// EchoSmall echoes a Small.
func (NetRPCBench) EchoSmall(req, resp *benchmsg.Small) error { return netrpcEcho(req, resp) }

// EchoMedium echoes a Medium.
func (NetRPCBench) EchoMedium(req, resp *benchmsg.Medium) error { return netrpcEcho(req, resp) }

// EchoLarge echoes a Large.
func (NetRPCBench) EchoLarge(req, resp *benchmsg.Large) error { return netrpcEcho(req, resp) }

// EchoBlob echoes a Blob.
func (NetRPCBench) EchoBlob(req, resp *benchmsg.Blob) error { return netrpcEcho(req, resp) }

func netrpcMethod(v any) (string, error) {
	switch v.(type) {
	case *benchmsg.Small:
		return "Bench.EchoSmall", nil
	case *benchmsg.Medium:
		return "Bench.EchoMedium", nil
	case *benchmsg.Large:
		return "Bench.EchoLarge", nil
	case *benchmsg.Blob:
		return "Bench.EchoBlob", nil
	}
	return "", fmt.Errorf("peers: netrpc: no echo method for %T", v)
}

func init() {
	for _, json := range []bool{false, true} {
		name, codec := "netrpc", "gob (encoding/gob, one encoder/decoder per connection)"
		if json {
			name, codec = "netrpc-json", "JSON-RPC 1.0 (net/rpc/jsonrpc, encoding/json with the generated json tags)"
		}
		add(name, target.Peer{
			Serve:     func(addr string) (string, func() error, error) { return serveNetRPC(addr, json) },
			NewTarget: func(cfg target.PeerConfig) (target.Target, error) { return newNetRPCTarget(cfg, json) },
			Settings: func() map[string]string {
				return map[string]string{
					"connections":  "the cell's connections dimension, one rpc.Client each (default 1 shared)",
					"multiplexing": "net/rpc sequence numbers on one connection, writes serialised by a mutex, one reader goroutine",
					"codec":        codec,
					"buffers":      "net/rpc defaults (gob: bufio.Writer 4 KiB on each side; jsonrpc: unbuffered)",
					"service":      "Bench.Echo{Small,Medium,Large,Blob}; the reply is filled with proto.Merge(reply, request)",
					"go":           moduleVersion("std"),
				}
			},
		})
	}
}

func serveNetRPC(addr string, json bool) (string, func() error, error) {
	srv := rpc.NewServer()
	if err := srv.RegisterName("Bench", NetRPCBench{}); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	s := serveConns(ln, func(c net.Conn) {
		if json {
			srv.ServeCodec(jsonrpc.NewServerCodec(c))
		} else {
			srv.ServeConn(c)
		}
	})
	return ln.Addr().String(), s.stop, nil
}

type netrpcTarget struct {
	addr   string
	json   bool
	method string
	req    any
	zero   func() any
}

func newNetRPCTarget(cfg target.PeerConfig, json bool) (target.Target, error) {
	req, err := benchmsg.New(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	method, err := netrpcMethod(req)
	if err != nil {
		return nil, err
	}
	zero, err := benchmsg.ZeroFunc(cfg.Payload)
	if err != nil {
		return nil, err
	}
	return &netrpcTarget{addr: cfg.Addr, json: json, method: method, req: req, zero: zero}, nil
}

func (t *netrpcTarget) Dial(ctx context.Context) (target.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	var rc *rpc.Client
	if t.json {
		rc = jsonrpc.NewClient(c)
	} else {
		rc = rpc.NewClient(c)
	}
	return &netrpcConn{t: t, c: rc}, nil
}

func (t *netrpcTarget) Verify(ctx context.Context, c target.Conn) error {
	nc, ok := c.(*netrpcConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	resp := t.zero()
	if err := nc.c.Call(t.method, t.req, resp); err != nil {
		return fmt.Errorf("peers: netrpc: first call: %w", err)
	}
	if !benchmsg.Equal(t.req, resp) {
		return fmt.Errorf("peers: netrpc: echo came back different")
	}
	return nil
}

type netrpcConn struct {
	t *netrpcTarget
	c *rpc.Client
}

// NewCaller reuses one reply per worker, emptied before each call since
// gob and JSON decode by merging into what is there.
func (c *netrpcConn) NewCaller() (target.Caller, error) {
	resp := c.t.zero()
	rc, method, req := c.c, c.t.method, c.t.req
	return func(ctx context.Context) error {
		benchmsg.Reset(resp)
		call := rc.Go(method, req, resp, make(chan *rpc.Call, 1))
		select {
		case <-call.Done:
			return call.Error
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil
}

func (c *netrpcConn) Close() error {
	err := c.c.Close()
	if err == rpc.ErrShutdown || err == io.EOF {
		err = nil
	}
	return err
}
