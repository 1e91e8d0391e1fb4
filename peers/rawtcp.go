package peers

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"rpcbench/target"
)

// Raw TCP frames: a 4-byte little-endian payload length, an 8-byte
// request ID, the payload. The server echoes each frame unchanged.
const (
	rawHeaderLen = 12
	rawMaxFrame  = 64 << 20
	rawBufSize   = 64 << 10
)

func init() {
	add("raw-tcp-pingpong", target.Peer{
		Serve:     serveRawTCP,
		NewTarget: func(cfg target.PeerConfig) (target.Target, error) { return newRawTCPTarget(cfg, false) },
		Settings: func() map[string]string {
			return rawSettings("connections", "one TCP connection per caller (the cell's connections dimension is ignored)",
				"multiplexing", "none: one call in flight per connection", "framing", "4-byte length + 8-byte id",
				"buffers", "client: one write and one read buffer per caller; server: bufio 64 KiB each way, flush when no input is buffered",
				"nodelay", "true (Go default)")
		},
	})
	add("raw-tcp-pipelined", target.Peer{
		Serve:     serveRawTCP,
		NewTarget: func(cfg target.PeerConfig) (target.Target, error) { return newRawTCPTarget(cfg, true) },
		Settings: func() map[string]string {
			return rawSettings("connections", "the cell's connections dimension, callers spread round-robin (default 1 shared)",
				"multiplexing", pipelinedDesign, "framing", "4-byte length + 8-byte id",
				"buffers", pipelinedBuffers, "nodelay", "true (Go default)")
		},
	})
}

// The design of raw-tcp-pipelined and raw-quic-mux, which share pipeConn
// and rawEcho.
const (
	pipelinedDesign  = "pipelined: callers append frames to a pending buffer, a single writer yields once (runtime.Gosched), then swaps the buffer out and writes all queued frames in one write; single reader (bufio 64 KiB) routing replies by id"
	pipelinedBuffers = "client: pending write buffer grown as needed, bufio 64 KiB reads; server: bufio 64 KiB each way, flushes when no input is buffered"
)

func serveRawTCP(addr string) (string, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	s := serveConns(ln, func(c net.Conn) { rawEcho(c) })
	return ln.Addr().String(), s.stop, nil
}

// rawEcho echoes frames, flushing only when no further request is already
// buffered, so pipelined requests get coalesced replies.
func rawEcho(c io.ReadWriter) {
	br := bufio.NewReaderSize(c, rawBufSize)
	bw := bufio.NewWriterSize(c, rawBufSize)
	var hdr [rawHeaderLen]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > rawMaxFrame {
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		bw.Write(hdr[:])
		bw.Write(buf)
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

type rawTCPTarget struct {
	addr      string
	payload   []byte
	pipelined bool
}

func newRawTCPTarget(cfg target.PeerConfig, pipelined bool) (target.Target, error) {
	p, err := rawPayload(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	return &rawTCPTarget{addr: cfg.Addr, payload: p, pipelined: pipelined}, nil
}

func (t *rawTCPTarget) Dial(ctx context.Context) (target.Conn, error) {
	if !t.pipelined {
		return &pingPongConn{t: t}, nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	return newPipeConn("raw-tcp-pipelined", t.payload, c), nil
}

// Verify checks that one call echoes the payload byte for byte.
func (t *rawTCPTarget) Verify(ctx context.Context, c target.Conn) error {
	switch c := c.(type) {
	case *pingPongConn:
		call, err := c.newCall()
		if err != nil {
			return err
		}
		if err := call.do(); err != nil {
			return err
		}
		return checkEcho("raw-tcp-pingpong", t.payload, call.resp)
	case *pipeConn:
		return c.verify(ctx)
	}
	return fmt.Errorf("peers: foreign connection %T", c)
}

func checkEcho(name string, want, got []byte) error {
	if string(want) != string(got) {
		return fmt.Errorf("peers: %s: echo of %d bytes came back as %d different bytes", name, len(want), len(got))
	}
	return nil
}

// frame builds a request frame for payload with id.
func frame(id uint64, payload []byte) []byte {
	b := make([]byte, rawHeaderLen+len(payload))
	binary.LittleEndian.PutUint32(b, uint32(len(payload)))
	binary.LittleEndian.PutUint64(b[4:], id)
	copy(b[rawHeaderLen:], payload)
	return b
}

// pingPongConn opens one TCP connection per caller.
type pingPongConn struct {
	t     *rawTCPTarget
	mu    sync.Mutex
	conns []net.Conn
}

type pingPongCall struct {
	c    net.Conn
	req  []byte
	hdr  [rawHeaderLen]byte
	resp []byte
}

func (pc *pingPongConn) newCall() (*pingPongCall, error) {
	c, err := net.DialTimeout("tcp", pc.t.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	pc.conns = append(pc.conns, c)
	pc.mu.Unlock()
	return &pingPongCall{c: c, req: frame(1, pc.t.payload), resp: make([]byte, len(pc.t.payload))}, nil
}

func (call *pingPongCall) do() error {
	if _, err := call.c.Write(call.req); err != nil {
		return err
	}
	if _, err := io.ReadFull(call.c, call.hdr[:]); err != nil {
		return err
	}
	if n := binary.LittleEndian.Uint32(call.hdr[:]); int(n) != len(call.resp) {
		return fmt.Errorf("peers: raw-tcp-pingpong: reply of %d bytes, want %d", n, len(call.resp))
	}
	_, err := io.ReadFull(call.c, call.resp)
	return err
}

func (pc *pingPongConn) NewCaller() (target.Caller, error) {
	call, err := pc.newCall()
	if err != nil {
		return nil, err
	}
	return func(context.Context) error { return call.do() }, nil
}

func (pc *pingPongConn) Close() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, c := range pc.conns {
		c.Close()
	}
	pc.conns = nil
	return nil
}

// pipeConn is one shared byte stream (a TCP connection, a QUIC stream):
// callers append their frames to a pending buffer and wake the single
// writer, which swaps the buffer out and writes everything queued in one
// write; a single reader hands each reply to the caller whose id it
// carries. Each caller has at most one call in flight, so its id is its
// index.
type pipeConn struct {
	name    string // the peer's, for errors
	payload []byte
	c       io.ReadWriteCloser
	wake    chan struct{} // capacity 1: the writer has frames to write
	done    chan struct{} // closed when the connection fails or closes
	wg      sync.WaitGroup
	callers callerTable[pipeCall]

	mu      sync.Mutex
	pending []byte
	err     error
	closed  bool
}

type pipeCall struct {
	req   []byte
	resp  []byte
	reply chan struct{}
}

// newPipeConn starts the writer and the reader of c.
func newPipeConn(name string, payload []byte, c io.ReadWriteCloser) *pipeConn {
	pc := &pipeConn{name: name, payload: payload, c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	pc.wg.Go(pc.writeLoop)
	pc.wg.Go(pc.readLoop)
	return pc
}

func (pc *pipeConn) newCall() *pipeCall {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	call := &pipeCall{req: frame(uint64(pc.callers.len()), pc.payload), resp: make([]byte, len(pc.payload)), reply: make(chan struct{}, 1)}
	pc.callers.add(call)
	return call
}

// verify checks that one call echoes the payload byte for byte.
func (pc *pipeConn) verify(ctx context.Context) error {
	call := pc.newCall()
	if err := pc.call(ctx, call); err != nil {
		return err
	}
	return checkEcho(pc.name, pc.payload, call.resp)
}

func (pc *pipeConn) NewCaller() (target.Caller, error) {
	call := pc.newCall()
	return func(ctx context.Context) error { return pc.call(ctx, call) }, nil
}

func (pc *pipeConn) call(ctx context.Context, call *pipeCall) error {
	pc.mu.Lock()
	if pc.err != nil {
		pc.mu.Unlock()
		return pc.err
	}
	idle := len(pc.pending) == 0
	pc.pending = append(pc.pending, call.req...)
	pc.mu.Unlock()
	if idle {
		select {
		case pc.wake <- struct{}{}:
		default:
		}
	}
	select {
	case <-call.reply:
		return nil
	case <-pc.done:
		return pc.failure()
	case <-ctx.Done():
		// The reply may still arrive and will sit in call.reply; a
		// cancelled run does not call again.
		return ctx.Err()
	}
}

func (pc *pipeConn) failure() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.err
}

func (pc *pipeConn) fail(err error) {
	pc.mu.Lock()
	if pc.err == nil {
		if pc.closed {
			err = errors.New("connection closed")
		}
		pc.err = fmt.Errorf("peers: %s: %w", pc.name, err)
		close(pc.done)
	}
	pc.mu.Unlock()
	pc.c.Close()
}

func (pc *pipeConn) writeLoop() {
	var out []byte
	for {
		select {
		case <-pc.wake:
		case <-pc.done:
			return
		}
		// A woken goroutine runs next on its P, ahead of the callers
		// that are about to queue: yield once so they can, and one write
		// carries them all.
		runtime.Gosched()
		pc.mu.Lock()
		out, pc.pending = pc.pending, out[:0]
		pc.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		if _, err := pc.c.Write(out); err != nil {
			pc.fail(err)
			return
		}
	}
}

func (pc *pipeConn) readLoop() {
	br := bufio.NewReaderSize(pc.c, rawBufSize)
	var hdr [rawHeaderLen]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			pc.fail(err)
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		id := binary.LittleEndian.Uint64(hdr[4:])
		call := pc.callers.get(id)
		if call == nil || int(n) != len(call.resp) {
			pc.fail(fmt.Errorf("reply id %d with %d bytes matches no caller", id, n))
			return
		}
		if _, err := io.ReadFull(br, call.resp); err != nil {
			pc.fail(err)
			return
		}
		call.reply <- struct{}{}
	}
}

func (pc *pipeConn) Close() error {
	pc.mu.Lock()
	pc.closed = true
	pc.mu.Unlock()
	pc.fail(net.ErrClosed)
	pc.wg.Wait()
	return nil
}
