package peers

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench/target"
)

// raw-fasthttp: POST /echo, the server copies the body into the reply.
const (
	httpMaxConns    = 512
	httpMaxConnWait = 10 * time.Second
	httpIdle        = 50 * time.Second // below the server's IdleTimeout
	httpServerIdle  = time.Minute
)

func init() {
	add("raw-fasthttp", target.Peer{
		Serve:     serveRawHTTP,
		NewTarget: newRawHTTPTarget,
		Settings: func() map[string]string {
			return rawSettings("connections", fmt.Sprintf("one fasthttp.HostClient per cell connection, up to %d keep-alive connections each (one request in flight per connection, as HTTP/1.1 requires)", httpMaxConns),
				"multiplexing", "none (HTTP/1.1 keep-alive, no pipelining)", "framing", "POST /echo, Content-Length body",
				"max_conn_wait", httpMaxConnWait.String(), "max_idle_conn_duration", httpIdle.String(),
				"buffers", "fasthttp defaults (4 KiB read/write buffers)", "server", "fasthttp.Server, handler copies PostBody to the reply body",
				"fasthttp", moduleVersion("github.com/valyala/fasthttp"))
		},
	})
}

func serveRawHTTP(addr string) (string, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &fasthttp.Server{
		Handler:     func(ctx *fasthttp.RequestCtx) { ctx.SetBody(ctx.PostBody()) },
		IdleTimeout: httpServerIdle,
		// Body sizes up to benchmsg.MaxBytes.
		MaxRequestBodySize:    65 << 20,
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		NoDefaultContentType:  true,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return ln.Addr().String(), func() error {
		err := srv.Shutdown()
		<-done
		return err
	}, nil
}

type rawHTTPTarget struct {
	addr    string
	payload []byte
}

func newRawHTTPTarget(cfg target.PeerConfig) (target.Target, error) {
	p, err := rawPayload(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	return &rawHTTPTarget{addr: cfg.Addr, payload: p}, nil
}

func (t *rawHTTPTarget) Dial(context.Context) (target.Conn, error) {
	hc := &fasthttp.HostClient{
		Addr:                t.addr,
		MaxConns:            httpMaxConns,
		MaxConnWaitTimeout:  httpMaxConnWait,
		MaxIdleConnDuration: httpIdle,
		MaxResponseBodySize: 65 << 20,
	}
	return &httpConn{t: t, hc: hc}, nil
}

func (t *rawHTTPTarget) Verify(_ context.Context, c target.Conn) error {
	hc, ok := c.(*httpConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	call := hc.newCall()
	if err := call.do(); err != nil {
		return err
	}
	return checkEcho("raw-fasthttp", t.payload, call.resp.Body())
}

type httpConn struct {
	t  *rawHTTPTarget
	hc *fasthttp.HostClient
}

type httpCall struct {
	hc   *fasthttp.HostClient
	req  *fasthttp.Request
	resp *fasthttp.Response
	want int
}

func (c *httpConn) newCall() *httpCall {
	req := new(fasthttp.Request)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI("http://" + c.t.addr + "/echo")
	req.SetBody(c.t.payload)
	return &httpCall{hc: c.hc, req: req, resp: new(fasthttp.Response), want: len(c.t.payload)}
}

func (call *httpCall) do() error {
	if err := call.hc.Do(call.req, call.resp); err != nil {
		return err
	}
	if sc := call.resp.StatusCode(); sc != fasthttp.StatusOK {
		return fmt.Errorf("peers: raw-fasthttp: status %d", sc)
	}
	if n := len(call.resp.Body()); n != call.want {
		return fmt.Errorf("peers: raw-fasthttp: reply of %d bytes, want %d", n, call.want)
	}
	return nil
}

func (c *httpConn) NewCaller() (target.Caller, error) {
	call := c.newCall()
	return func(context.Context) error { return call.do() }, nil
}

func (c *httpConn) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
