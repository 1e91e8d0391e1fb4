package rpcbench

import (
	"runtime/debug"
	"sync"

	"rpcbench/codecs"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
)

// serverCall is one call in flight: the request, its context and its reply
// buffer, in one allocation.
type serverCall struct {
	ctx   callCtx
	sess  *serverSession
	m     *method
	codec Codec
	req   wire.Frame
	buf   *[]byte
	resp  wire.Frame
	// inline: the call runs on the connection's reader (see Inline), holds
	// no copy of its payload and is not in the session's table.
	inline bool
}

var _ InlineCall = (*serverCall)(nil)

// Run implements InlineCall: the call runs on the transport's goroutine.
func (c *serverCall) Run() { c.run() }

func (c *serverCall) run() {
	x := c.sess
	out := bufpool.Get()
	payload, err := c.invoke(out)
	if !c.inline {
		x.mu.Lock()
		delete(x.calls, c.req.RequestID)
		x.mu.Unlock()
	}
	canceled, untouched := c.ctx.end() // also stops a deadline timer
	// (a live context ends here, so handler goroutines holding it stop too)
	switch {
	case canceled:
		// The caller gave up; it would discard the reply.
	case err != nil:
		e := toError(err, CodeApplication)
		x.replyError(&c.req, e.Code, e.Message)
	default:
		c.resp = wire.Frame{Kind: wire.KindResponse, Codec: c.req.Codec, Compression: c.resp.Compression,
			CallID: c.req.CallID, RequestID: c.req.RequestID, Payload: payload}
		x.conn.Send(&c.resp)
	}
	bufpool.Put(out)
	c.release()
	x.srv.callDone()
	if c.inline && untouched {
		*c = serverCall{}
		inlineCalls.Put(c)
	}
}

// inlineCalls recycles the state of inline calls, which nothing refers to
// once they have run (Inline: the handler's context is valid only until it
// returns), except a context whose Done channel or deadline timer the
// handler asked for: those calls are left to the garbage collector.
var inlineCalls = sync.Pool{New: func() any { return new(serverCall) }}

// release returns the call's copy of its payload, if it made one.
func (c *serverCall) release() {
	if c.buf != nil {
		bufpool.Put(c.buf)
		c.buf = nil
	}
}

// invoke decompresses, runs the handler with panic recovery, and compresses
// the reply into out.
func (c *serverCall) invoke(out *[]byte) (payload []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.sess.srv.opts.Logf("rpcbench: panic in %s: %v\n%s", c.m.name, r, debug.Stack())
			err = Errorf(CodeInternal, "%s: handler panicked: %v", c.m.name, r)
		}
	}()
	req := c.req.Payload
	if c.req.Compression != 0 {
		var tmp *[]byte
		if req, tmp, err = codecs.Decompress(c.req.Compression, req, c.sess.srv.opts.MaxPayload); err != nil {
			return nil, toError(err, CodeBadRequest)
		}
		defer bufpool.Put(tmp)
	}
	if c.codec == nil {
		c.codec = codecs.Raw{}
	}
	body, err := c.m.fn(&c.ctx, c.codec, req, (*out)[:0])
	if err != nil {
		return nil, err
	}
	if h := c.sess.srv.hook.Load(); h != nil {
		body = (*h).Reply(body)
	}
	*out = body
	if len(body) > c.sess.srv.opts.MaxPayload {
		return nil, Errorf(CodeResourceExhausted, "%s: reply of %d bytes exceeds the %d-byte limit", c.m.name, len(body), c.sess.srv.opts.MaxPayload)
	}
	c.resp.Compression = 0
	if c.req.Compression != 0 && len(body) >= c.sess.srv.opts.CompressThreshold {
		tmp := bufpool.Get()
		defer bufpool.Put(tmp)
		if *tmp, err = codecs.CompressorByID(c.req.Compression).Compress((*tmp)[:0], body); err != nil {
			return nil, Errorf(CodeInternal, "%s: compressing reply: %v", c.m.name, err)
		}
		*out = append((*out)[:0], *tmp...)
		c.resp.Compression = c.req.Compression
	}
	return *out, nil
}
