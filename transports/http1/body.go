package http1

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench"
)

// Request bodies. fasthttp streams them (Server.StreamRequestBody): it
// reads at most 8 KiB with the head, and readBody reads the rest into the
// connection's buffer, which grows with the bytes that arrive, not with the
// Content-Length announced. Growth past the buffer a connection keeps
// between requests (retainBody) is charged to the connection's and the
// listener's budgets (Limits.MaxInProgressPerConn, MaxInProgress); a body
// that cannot get its bytes in time, or that is not in by the frame
// deadline (Limits.FrameTimeout from the request's first byte), is refused
// and its connection closed.

// bodyStep is the most a body buffer grows by at a time.
const bodyStep = 1 << 20

// readBody reads ctx's request body. It returns the body (valid until
// releaseBody) and the budget bytes taken for it; when it reports false it
// has written the error response, and the caller gives back what was taken.
func (c *serverConn) readBody(ctx *fasthttp.RequestCtx, frameEnd time.Time) (body []byte, taken int, ok bool) {
	limit := c.l.t.opts.MaxPayload
	announced := ctx.Request.Header.ContentLength() // -1: chunked
	if announced > limit {
		return nil, 0, c.refuseBody(ctx, fasthttp.StatusRequestEntityTooLarge, rpcbench.CodeResourceExhausted,
			fmt.Sprintf("http1: request body of %d bytes is over the %d-byte limit (MaxPayload)", announced, limit))
	}
	rs := ctx.RequestBodyStream()
	if rs == nil {
		return nil, 0, true
	}
	if !frameEnd.IsZero() {
		c.sock.holdBody(frameEnd)
		defer c.sock.endFrame()
	}
	buf := c.body[:0]
	for {
		if len(buf) == cap(buf) {
			want := len(buf) + min(max(cap(buf), 4<<10), bodyStep)
			if announced >= 0 {
				want = min(want, announced+1) // +1: room to see the end
			}
			if charge := want - max(cap(buf), retainBody); charge > 0 {
				if !c.bodies.Take(charge, frameEnd) {
					return nil, taken, c.refuseBody(ctx, StatusOf(rpcbench.CodeResourceExhausted), rpcbench.CodeResourceExhausted,
						"http1: the server's memory for request bodies in progress is spent (Limits.MaxInProgress, MaxInProgressPerConn)")
				}
				taken += charge
			}
			buf = append(buf, make([]byte, want-len(buf))...)[:len(buf)]
		}
		n, err := rs.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, taken, c.refuseBody(ctx, fasthttp.StatusRequestEntityTooLarge, rpcbench.CodeResourceExhausted,
				fmt.Sprintf("http1: request body over the %d-byte limit (MaxPayload)", limit))
		}
		if errors.Is(err, io.EOF) {
			c.body = buf
			return buf, taken, true
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, taken, c.refuseBody(ctx, fasthttp.StatusRequestTimeout, rpcbench.CodeDeadlineExceeded,
					fmt.Sprintf("http1: request body not received within %v of its first byte (Limits.FrameTimeout)", c.l.t.opts.Limits.FrameTimeout))
			}
			return nil, taken, c.refuseBody(ctx, fasthttp.StatusBadRequest, rpcbench.CodeBadRequest, "http1: reading the request body: "+err.Error())
		}
	}
}

// refuseBody answers a request whose body was not read, and closes the
// connection after the answer: the rest of the body is still on it.
func (c *serverConn) refuseBody(ctx *fasthttp.RequestCtx, status int, code rpcbench.Code, msg string) bool {
	writeError(&ctx.Response, status, code, msg)
	ctx.SetConnectionClose()
	return false
}

// releaseBody gives back the budget a body took, and lets a large buffer
// go: an idle connection keeps at most retainBody.
func (c *serverConn) releaseBody(body []byte, taken int) {
	c.bodies.Give(taken)
	if cap(body) > retainBody {
		c.body = nil
	}
}
