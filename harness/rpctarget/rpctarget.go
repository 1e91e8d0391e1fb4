// Package rpctarget is the target.Target of rpcbench itself: one
// rpcbench.Client per connection over any registered transport, calling the
// benchmark echo method of the cell's payload (services.Bench.Echo*)
// through the cell's codec and compression. With the raw codec, whose
// payloads are opaque bytes (Bytes(n)), it calls Echo.Echo, which sends the
// bytes back as they came: no message is decoded on the server, as none is
// by the raw-socket limits beside it.
package rpctarget

import (
	"context"
	"fmt"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
	"rpcbench/harness/protopayload"
	"rpcbench/services"
	"rpcbench/target"
)

// Config describes the calls to make.
type Config struct {
	Transport   rpcbench.Transport
	Addr        string
	Codec       string
	Compression string
	// Payload is a benchmark message name (Small, Medium, Large, Bytes(n)),
	// or the name of Message.
	Payload string
	// Message, if set, is the user's message to echo instead of a
	// benchmark message (package protopayload).
	Message *protopayload.Message
	Seed    int64
}

// Echo is one benchmark call: the echo method of a payload, the request,
// and a constructor of reply values. Any client that calls methods by name
// (one rpcbench.Client here, a cluster client in harness/resilience) can
// make it.
type Echo struct {
	Method string
	Req    any
	Zero   func() any
	// Equal compares a reply with Req; nil: benchmsg.Equal.
	Equal func(a, b any) bool
}

// NewMessageEcho is the echo of a user's message through codec; the error
// says why codec cannot carry it.
func NewMessageEcho(m *protopayload.Message, codec string) (Echo, error) {
	f, err := m.Form(codec)
	if err != nil {
		return Echo{}, err
	}
	return Echo{Method: m.Method(codec), Req: f.Value, Zero: f.Zero, Equal: f.Equal}, nil
}

// NewEcho builds the payload and picks its echo method for codec.
func NewEcho(payload, codec string, seed int64) (Echo, error) {
	method, err := services.BenchEchoMethod(payload)
	if err != nil {
		return Echo{}, err
	}
	if codec == "raw" {
		method = services.MethodEchoRaw
	}
	req, err := benchmsg.New(payload, seed)
	if err != nil {
		return Echo{}, err
	}
	zero, err := benchmsg.ZeroFunc(payload)
	if err != nil {
		return Echo{}, err
	}
	return Echo{Method: method, Req: req, Zero: zero}, nil
}

// Same reports whether resp, a reply to e, came back equal to the request.
func (e Echo) Same(resp any) bool {
	if e.Equal != nil {
		return e.Equal(e.Req, resp)
	}
	return benchmsg.Equal(e.Req, resp)
}

// Target calls one server with one payload.
type Target struct {
	cfg  Config
	echo Echo
}

var _ target.Target = (*Target)(nil)

// New builds the payload and picks the echo method.
func New(cfg Config) (*Target, error) {
	var e Echo
	var err error
	if cfg.Message != nil {
		e, err = NewMessageEcho(cfg.Message, cfg.Codec)
	} else {
		e, err = NewEcho(cfg.Payload, cfg.Codec, cfg.Seed)
	}
	if err != nil {
		return nil, err
	}
	return &Target{cfg: cfg, echo: e}, nil
}

// ClientOptions are the client settings every cell uses; the manifest
// records them. Heartbeats are off so that idle pings never add bytes or
// CPU to a measured window.
func ClientOptions(codec, compression string) rpcbench.ClientOptions {
	return rpcbench.ClientOptions{Codec: codec, Compression: compression, Conns: 1, HeartbeatInterval: -1}
}

// Dial implements target.Target: one client with one connection.
func (t *Target) Dial(ctx context.Context) (target.Conn, error) {
	c, err := rpcbench.Dial(ctx, t.cfg.Transport, t.cfg.Addr, ClientOptions(t.cfg.Codec, t.cfg.Compression))
	if err != nil {
		return nil, err
	}
	return &conn{t: t, c: c}, nil
}

type conn struct {
	t *Target
	c *rpcbench.Client
}

// NewCaller gives each worker its own reply value, reused from call to
// call as a caller that cares about allocations would; the request value
// is shared (codecs only read it).
func (c *conn) NewCaller() (target.Caller, error) {
	resp := c.t.echo.Zero()
	client, method, req := c.c, c.t.echo.Method, c.t.echo.Req
	return func(ctx context.Context) error {
		return client.Call(ctx, method, req, resp)
	}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// Verify makes one call on conn and checks that the echo came back equal,
// so that a cell never measures a codec that silently loses data.
func (t *Target) Verify(ctx context.Context, hc target.Conn) error {
	c, ok := hc.(*conn)
	if !ok {
		return fmt.Errorf("rpctarget: foreign connection %T", hc)
	}
	resp := t.echo.Zero()
	if err := c.c.Call(ctx, t.echo.Method, t.echo.Req, resp); err != nil {
		return fmt.Errorf("first call: %w", err)
	}
	if !t.echo.Same(resp) {
		return fmt.Errorf("echo of %s through %s came back different", t.cfg.Payload, t.cfg.Codec)
	}
	return nil
}

// Check reports whether codec, in the form the RPC core uses, can carry
// payload: encode, decode, compare.
// Cells that fail it are not applicable (raw carries only Bytes(n)).
func Check(codec, payload string, seed int64) error {
	c, err := codecs.ByName(codec)
	if err != nil {
		return err
	}
	v, err := benchmsg.New(payload, seed)
	if err != nil {
		return err
	}
	b, err := c.Marshal(nil, v)
	if err != nil {
		return fmt.Errorf("%s cannot encode %s: %v", codec, payload, err)
	}
	z, _ := benchmsg.NewZero(payload)
	if err := c.Unmarshal(b, z); err != nil {
		return fmt.Errorf("%s cannot decode %s: %v", codec, payload, err)
	}
	if !benchmsg.Equal(v, z) {
		return fmt.Errorf("%s does not round-trip %s", codec, payload)
	}
	return nil
}
