// Package rpcext is the external target of rpcbench's own services on a
// server the user runs ('rpcbench serve' elsewhere):
// rpcbench+TRANSPORT://HOST:PORT with --call Service.Method. The JSON data
// becomes the method's request type (known in process: services.Types;
// for a server's own methods, built from its Admin.Describe) and travels
// through the chosen codec, as a typed client would send it.
package rpcext

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"rpcbench"
	"rpcbench/codecs"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/target"
	"rpcbench/targets"
	"rpcbench/transports"
)

// DialTimeout bounds Open's dial and first call.
const DialTimeout = 5 * time.Second

func init() {
	targets.Register("rpcbench+", targets.Opener{Open: Open, Kind: func(d targets.Def) targets.Kind {
		u, _ := url.Parse(d.URL)
		codec := d.Codec
		if codec == "" {
			codec = "proto"
		}
		return targets.Kind{Transport: u.Scheme, Codec: codec}
	}})
}

type extTarget struct {
	def     targets.Def
	tr      rpcbench.Transport
	name    string // transport name
	addr    string
	dial    string
	codec   string
	method  string
	types   services.MethodTypes
	reqs    *targets.Requests
	pre     []any // the plain documents as request values; nil for templates
	workers atomic.Int64
}

var _ targets.Target = (*extTarget)(nil)

// Open checks the transport, method, codec and data, then dials and makes
// one call.
func Open(ctx context.Context, d targets.Def) (targets.Target, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(u.Scheme, "rpcbench+")
	tr, err := transports.New(name, transports.Options{})
	if err != nil {
		return nil, fmt.Errorf("rpcbench target %s: %v", d.URL, err)
	}
	t := &extTarget{def: d, tr: tr, name: name, addr: u.Host, dial: u.Host, codec: d.Codec, method: d.Call}
	if t.codec == "" {
		t.codec = "proto"
	}
	if len(d.Proto) > 0 || d.Protoset != "" || len(d.Metadata) > 0 || len(d.Headers) > 0 {
		return nil, fmt.Errorf("rpcbench target %s: --proto, --protoset, --metadata and --header are for gRPC and HTTP targets", d.URL)
	}
	codec, err := codecs.ByName(t.codec)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DialTimeout)
		defer cancel()
	}
	var ok bool
	if t.types, ok = services.Types()[d.Call]; !ok {
		if t.types, err = describedTypes(ctx, tr, u.Host, d.Call); err != nil {
			return nil, fmt.Errorf("rpcbench target %s: %v", d.URL, err)
		}
	}
	data, err := targets.ParseData(cmp.Or(d.Data, "{}"))
	if err != nil {
		return nil, err
	}
	// The encoder checks that each document fits the request type and
	// that the codec carries it; calls send typed values.
	t.reqs, err = targets.NewRequests(data, func(dst, js []byte) ([]byte, error) {
		v := t.types.Req()
		if err := fromJSON(js, v); err != nil {
			return nil, err
		}
		if _, err := codec.Marshal(nil, v); err != nil {
			return nil, fmt.Errorf("cannot be encoded by %s: %v", t.codec, err)
		}
		return append(dst, js...), nil
	})
	if err != nil {
		return nil, fmt.Errorf("rpcbench target %s: %v", d.Call, err)
	}
	t.pre = make([]any, t.reqs.Len())
	for i := range t.pre {
		if js := t.reqs.Plain(i); js != nil {
			t.pre[i] = t.types.Req()
			fromJSON(js, t.pre[i])
		}
	}
	hc, err := t.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("rpcbench target %s unreachable: %v", t.addr, err)
	}
	defer hc.Close()
	if err := t.Verify(ctx, hc); err != nil {
		return nil, err
	}
	return t, nil
}

// describedTypes are the types of a method that is not built in, from
// the server's description of its methods (Admin.Describe).
func describedTypes(ctx context.Context, tr rpcbench.Transport, addr, method string) (services.MethodTypes, error) {
	d, err := admin.FetchDescription(ctx, tr, addr)
	if err != nil {
		return services.MethodTypes{}, fmt.Errorf("%q is no built-in method (methods: %s), and the server does not describe its own: %v",
			method, strings.Join(services.TypedMethods(), ", "), err)
	}
	md, err := d.Method(method)
	if err != nil {
		return services.MethodTypes{}, err
	}
	req, reply, err := md.Types()
	if err != nil {
		return services.MethodTypes{}, err
	}
	return services.MethodTypes{Req: func() any { return reflect.New(req).Interface() }, Resp: func() any { return reflect.New(reply).Interface() }}, nil
}

// fromJSON decodes js into v: protobuf's JSON mapping for protobuf
// messages, encoding/json otherwise; unknown fields are errors.
func fromJSON(js []byte, v any) error {
	var err error
	if m, ok := v.(proto.Message); ok {
		err = protojson.Unmarshal(js, m)
	} else {
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		return fmt.Errorf("does not match %T: %v", v, err)
	}
	return nil
}

func (t *extTarget) Addr() string    { return t.addr }
func (t *extTarget) Network() string { return transports.Network(t.tr) }

func (t *extTarget) Via(addr string) targets.Target {
	return &extTarget{def: t.def, tr: t.tr, name: t.name, addr: t.addr, dial: addr, codec: t.codec,
		method: t.method, types: t.types, reqs: t.reqs, pre: t.pre}
}

func (t *extTarget) Settings() map[string]string {
	return map[string]string{
		"kind":     "rpcbench calls on a server the user runs",
		"url":      t.def.URL,
		"method":   t.method,
		"codec":    t.codec,
		"requests": fmt.Sprintf("%T built from the JSON data once (templates: per call), encoded by %s on every call", t.types.Req(), t.codec),
		"server":   "external: its CPU, allocations and memory are not measured",
	}
}

// Dial implements target.Target: one client with one connection.
func (t *extTarget) Dial(ctx context.Context) (target.Conn, error) {
	c, err := rpcbench.Dial(ctx, t.tr, t.dial, rpcbench.ClientOptions{Codec: t.codec, Conns: 1, HeartbeatInterval: -1})
	if err != nil {
		return nil, err
	}
	return &conn{t: t, c: c}, nil
}

// Verify makes one call with the first request.
func (t *extTarget) Verify(ctx context.Context, hc target.Conn) error {
	c, ok := hc.(*conn)
	if !ok {
		return fmt.Errorf("rpcext: foreign connection %T", hc)
	}
	call, err := c.NewCaller()
	if err != nil {
		return err
	}
	if err := call(ctx); err != nil {
		return fmt.Errorf("rpcbench target %s: first call of %s failed: %v", t.addr, t.method, err)
	}
	return nil
}

type conn struct {
	t *extTarget
	c *rpcbench.Client
}

func (c *conn) Close() error { return c.c.Close() }

// NewCaller keeps one reply value per worker.
func (c *conn) NewCaller() (target.Caller, error) {
	t, client := c.t, c.c
	cur := t.reqs.Cursor(int(t.workers.Add(1) - 1))
	resp := t.types.Resp()
	return func(ctx context.Context) error {
		i, js, err := cur.NextAt()
		if err != nil {
			return err
		}
		req := t.pre[i]
		if req == nil {
			req = t.types.Req()
			if err := fromJSON(js, req); err != nil {
				return err
			}
		}
		return client.Call(ctx, t.method, req, resp)
	}, nil
}
