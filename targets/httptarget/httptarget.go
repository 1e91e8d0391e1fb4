// Package httptarget is the external target of an HTTP/1.1 endpoint
// (http://HOST:PORT/path, https://...): one request per call over
// keep-alive connections (fasthttp.HostClient), REST or JSON-RPC alike. A
// status of 400 or more is an error counted by its status ("http_503").
package httptarget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench/target"
	"rpcbench/targets"
	"rpcbench/wirestats"
)

// Client settings, recorded in the manifest.
const (
	// DialTimeout bounds each connection's dial and Open's first request.
	DialTimeout = 5 * time.Second
	// maxConns per cell connection: HTTP/1.1 carries one request at a
	// time per connection, so workers sharing a cell connection each get
	// their own keep-alive socket, as with the raw-fasthttp peer.
	maxConns    = 512
	maxConnWait = 10 * time.Second
	idle        = 30 * time.Second
)

func init() {
	kind := func(targets.Def) targets.Kind { return targets.Kind{Transport: "http", Codec: "json"} }
	targets.Register("http", targets.Opener{Open: Open, Kind: kind})
	targets.Register("https", targets.Opener{Open: Open, Kind: kind})
}

type httpTarget struct {
	def     targets.Def
	uri     string
	addr    string
	dial    string
	tls     bool
	method  string
	headers [][2]string
	reqs    *targets.Requests
	workers atomic.Int64
}

var _ targets.Target = (*httpTarget)(nil)

// Open checks the URL, headers and data and sends one request: an
// unreachable server, a TLS failure or a status of 400 or more is an error
// before any load.
func Open(ctx context.Context, d targets.Def) (targets.Target, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, err
	}
	if d.Call != "" {
		return nil, fmt.Errorf("http target %s: --call is for gRPC and rpcbench targets; the URL's path is the endpoint", d.URL)
	}
	if len(d.Proto) > 0 || d.Protoset != "" || len(d.Metadata) > 0 {
		return nil, fmt.Errorf("http target %s: --proto, --protoset and --metadata are for gRPC targets (use --header)", d.URL)
	}
	t := &httpTarget{def: d, uri: d.URL, tls: u.Scheme == "https", method: strings.ToUpper(d.Method)}
	t.addr = targets.HostPort(u, "80")
	if t.tls {
		t.addr = targets.HostPort(u, "443")
	}
	t.dial = t.addr
	if t.method == "" {
		t.method = fasthttp.MethodGet
		if d.Data != "" {
			t.method = fasthttp.MethodPost
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
		t.headers = append(t.headers, [2]string{k, d.Headers[k]})
	}
	data, err := targets.ParseData(d.Data)
	if err != nil {
		return nil, err
	}
	if t.reqs, err = targets.NewRequests(data, func(dst, body []byte) ([]byte, error) { return append(dst, body...), nil }); err != nil {
		return nil, fmt.Errorf("http target %s: %v", d.URL, err)
	}
	hc, err := t.client()
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	if err := t.check(hc); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *httpTarget) client() (*fasthttp.HostClient, error) {
	hc := &fasthttp.HostClient{
		Addr: t.dial, IsTLS: t.tls, MaxConns: maxConns, MaxConnWaitTimeout: maxConnWait,
		MaxIdleConnDuration: idle, ReadTimeout: 0, NoDefaultUserAgentHeader: true,
		Dial: func(addr string) (net.Conn, error) {
			c, err := net.DialTimeout("tcp", addr, DialTimeout)
			if err != nil {
				return nil, err
			}
			return wirestats.ClientConn(c), nil
		},
	}
	if t.tls {
		host, _, _ := net.SplitHostPort(t.addr)
		cfg, err := targets.TLSConfig(host, t.def)
		if err != nil {
			return nil, err
		}
		hc.TLSConfig = cfg
	} else if t.def.CACert != "" || t.def.Cert != "" || t.def.SkipVerify {
		return nil, fmt.Errorf("http target %s: TLS options need https://", t.def.URL)
	}
	return hc, nil
}

// prepare fills req for one call with body.
func (t *httpTarget) prepare(req *fasthttp.Request, body []byte) {
	req.SetRequestURI(t.uri)
	req.Header.SetMethod(t.method)
	for _, h := range t.headers {
		req.Header.Set(h[0], h[1])
	}
	if t.method != fasthttp.MethodGet || len(body) > 0 {
		req.SetBody(body)
	}
}

// check sends one request and wants a status below 400.
func (t *httpTarget) check(hc *fasthttp.HostClient) error {
	body, err := t.reqs.Cursor(0).Next()
	if err != nil {
		return err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	t.prepare(req, body)
	if err := hc.DoTimeout(req, resp, DialTimeout); err != nil {
		var te interface{ Timeout() bool }
		if strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "x509") {
			return fmt.Errorf("http target %s: TLS handshake failed: %v", t.addr, err)
		}
		if errors.As(err, &te) && te.Timeout() || errors.Is(err, fasthttp.ErrTimeout) {
			return fmt.Errorf("http target %s unreachable within %v: %v", t.addr, DialTimeout, err)
		}
		return fmt.Errorf("http target %s unreachable: %v", t.addr, err)
	}
	if sc := resp.StatusCode(); sc >= 400 {
		b := resp.Body()
		if len(b) > 200 {
			b = b[:200]
		}
		return fmt.Errorf("http target %s: first %s %s returned %d %s: %s", t.addr, t.method, t.uri, sc, fasthttp.StatusMessage(sc), strings.Join(strings.Fields(string(b)), " "))
	}
	return nil
}

func (t *httpTarget) Addr() string    { return t.addr }
func (t *httpTarget) Network() string { return "tcp" }

func (t *httpTarget) Via(addr string) targets.Target {
	return &httpTarget{def: t.def, uri: t.uri, addr: t.addr, dial: addr, tls: t.tls, method: t.method, headers: t.headers, reqs: t.reqs}
}

func (t *httpTarget) Settings() map[string]string {
	var hs []string
	for _, h := range t.headers {
		hs = append(hs, h[0]+": "+h[1])
	}
	s := map[string]string{
		"kind":        "HTTP/1.1 requests",
		"url":         t.uri,
		"method":      t.method,
		"headers":     strings.Join(hs, "; "),
		"requests":    "bodies from the data, as given (templates: rendered per call); a status ≥ 400 is an error counted by status",
		"connections": fmt.Sprintf("one fasthttp.HostClient per cell connection, up to %d keep-alive connections each (one request in flight per connection, as HTTP/1.1 requires)", maxConns),
		"server":      "external: its CPU, allocations and memory are not measured",
	}
	if t.dial != t.addr {
		s["via"] = t.dial
	}
	return s
}

// Dial implements target.Target: one HostClient.
func (t *httpTarget) Dial(context.Context) (target.Conn, error) {
	hc, err := t.client()
	if err != nil {
		return nil, err
	}
	return &conn{t: t, hc: hc}, nil
}

// Verify implements target.Verifier.
func (t *httpTarget) Verify(_ context.Context, c target.Conn) error {
	hc, ok := c.(*conn)
	if !ok {
		return fmt.Errorf("httptarget: foreign connection %T", c)
	}
	return t.check(hc.hc)
}

type conn struct {
	t  *httpTarget
	hc *fasthttp.HostClient
}

func (c *conn) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// NewCaller keeps one request and one response per worker. A request
// whose body never changes is prepared once.
func (c *conn) NewCaller() (target.Caller, error) {
	t, hc := c.t, c.hc
	cur := t.reqs.Cursor(int(t.workers.Add(1) - 1))
	req, resp := new(fasthttp.Request), new(fasthttp.Response)
	fixed := t.reqs.Len() == 1 && !t.reqs.Templated()
	if fixed {
		body, _ := cur.Next()
		t.prepare(req, body)
	}
	return func(ctx context.Context) error {
		if !fixed {
			body, err := cur.Next()
			if err != nil {
				return err
			}
			req.Reset()
			t.prepare(req, body)
		}
		if err := hc.Do(req, resp); err != nil {
			return &targets.StatusError{Code: "http_" + connErrCode(err), Msg: err.Error()}
		}
		if sc := resp.StatusCode(); sc >= 400 {
			return &targets.StatusError{Code: "http_" + strconv.Itoa(sc), Msg: fasthttp.StatusMessage(sc) + ": " + string(bytes.TrimSpace(firstN(resp.Body(), 120)))}
		}
		return nil
	}, nil
}

// connErrCode names a failure with no status.
func connErrCode(err error) string {
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrNoFreeConns):
		return "timeout"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection_closed"
	}
	return "unavailable"
}

func firstN(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
