package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"rpcbench/wirestats"
)

// connPool is a client's set of keep-alive connections to one server: at
// most max open, idle ones reused most-recent first (so that surplus ones
// age out), and calls queued in arrival order when all are busy. Close
// closes every connection, which aborts exchanges in flight, and leaves no
// goroutine or timer behind.
type connPool struct {
	addr    string
	tls     *tls.Config
	max     int
	wait    time.Duration // longest wait for a free connection
	idleFor time.Duration
	dialFor time.Duration
	maxBody int

	ctx    context.Context // cancelled by close: stops dials in progress
	cancel context.CancelFunc

	mu      sync.Mutex
	idle    []*poolConn // oldest first
	open    int         // connections open or being dialled
	waiters []*waiter   // oldest first
	all     map[*poolConn]struct{}
	reaper  *time.Timer // closes idle connections; armed while any is idle
	closed  bool
}

// poolConn is one connection with its buffers.
type poolConn struct {
	nc       net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	lastUse  time.Time
	deadline bool // a deadline is set on nc
}

// A waiter receives a connection, or an empty grant meaning "a slot is
// free: dial", or an error when the pool closes.
type waiter struct{ ch chan grant }

type grant struct {
	pc  *poolConn
	err error
}

// dialError is a failure to open a connection: the request never left.
type dialError struct{ error }

func (e *dialError) Unwrap() error { return e.error }

var (
	errPoolClosed = errors.New("http1: connection closed")
	errNoFreeConn = errors.New("http1: no free connection")
)

func newPool(t *Transport, addr string, max int, wait time.Duration) *connPool {
	p := &connPool{
		addr: addr, tls: t.opts.TLS, max: max, wait: wait,
		idleFor: t.opts.MaxIdleConnDuration, dialFor: t.opts.DialTimeout, maxBody: t.opts.MaxPayload,
		all: map[*poolConn]struct{}{},
	}
	if p.tls != nil && p.tls.ServerName == "" && !p.tls.InsecureSkipVerify {
		cfg := p.tls.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
		p.tls = cfg
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// warm dials one connection now and keeps it idle.
func (p *connPool) warm(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPoolClosed
	}
	p.open++
	p.mu.Unlock()
	pc, err := p.dial(ctx)
	if err != nil {
		return err
	}
	p.release(pc, true)
	return nil
}

// roundTrip writes req on a pooled connection and reads the reply into
// resp. A zero deadline means none.
func (p *connPool) roundTrip(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error {
	pc, err := p.acquire(context.Background(), deadline)
	if err != nil {
		return err
	}
	err = pc.roundTrip(req, resp, deadline, p.maxBody)
	p.release(pc, err == nil && !resp.ConnectionClose())
	return err
}

func (pc *poolConn) roundTrip(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time, maxBody int) error {
	if !deadline.IsZero() || pc.deadline {
		if err := pc.nc.SetDeadline(deadline); err != nil {
			return err
		}
		pc.deadline = !deadline.IsZero()
	}
	werr := req.Write(pc.bw)
	if werr == nil {
		werr = pc.bw.Flush()
	}
	if werr != nil {
		// A server that refuses a request (413) answers and closes without
		// reading the rest of the body, which can fail our write: its
		// answer may be waiting all the same.
		if !pc.deadline {
			pc.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			pc.deadline = true
		}
		if resp.ReadLimitBody(pc.br, maxBody) == nil {
			resp.SetConnectionClose()
			return nil
		}
		return werr
	}
	return resp.ReadLimitBody(pc.br, maxBody)
}

// acquire returns an idle connection, a new one while under max, or the
// first one released before the wait ends (or ctx does).
func (p *connPool) acquire(ctx context.Context, deadline time.Time) (*poolConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	if n := len(p.idle); n > 0 {
		pc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return pc, nil
	}
	if p.open < p.max {
		p.open++
		p.mu.Unlock()
		return p.dial(p.ctx)
	}
	w := &waiter{ch: make(chan grant, 1)}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()

	wait := p.wait
	if !deadline.IsZero() {
		wait = min(wait, time.Until(deadline))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	var g grant
	select {
	case g = <-w.ch:
	case <-t.C:
		if !p.giveUp(w) {
			g = <-w.ch // granted just now
		} else {
			return nil, errNoFreeConn
		}
	case <-ctx.Done():
		if !p.giveUp(w) {
			g = <-w.ch
		} else {
			return nil, ctx.Err()
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	if g.pc == nil {
		return p.dial(p.ctx)
	}
	return g.pc, nil
}

// giveUp leaves the queue; false means a grant is already on its way.
func (p *connPool) giveUp(w *waiter) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dequeue(w)
}

func (p *connPool) dequeue(w *waiter) bool {
	for i, x := range p.waiters {
		if x == w {
			copy(p.waiters[i:], p.waiters[i+1:])
			p.waiters[len(p.waiters)-1] = nil
			p.waiters = p.waiters[:len(p.waiters)-1]
			return true
		}
	}
	return false
}

// dial opens a connection for a slot already counted in open.
func (p *connPool) dial(ctx context.Context) (*poolConn, error) {
	pc, err := p.connect(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.closed {
		pc.nc.Close()
		err = errPoolClosed
	}
	if err != nil {
		p.open--
		p.passSlotLocked()
		return nil, err
	}
	p.all[pc] = struct{}{}
	return pc, nil
}

func (p *connPool) connect(ctx context.Context) (*poolConn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.dialFor)
	defer cancel()
	// Close stops a dial made for Dial's context too.
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, &dialError{fmt.Errorf("http1: dial %s: %w", p.addr, err)}
	}
	var nc net.Conn = &countingConn{Conn: raw}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, &dialError{fmt.Errorf("http1: TLS handshake with %s: %w", p.addr, err)}
		}
		nc = tc
	}
	return &poolConn{nc: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096)}, nil
}

// passSlotLocked lets the first waiter dial into a slot just freed.
func (p *connPool) passSlotLocked() {
	if len(p.waiters) == 0 || p.closed {
		return
	}
	w := p.waiters[0]
	p.dequeue(w)
	p.open++
	w.ch <- grant{}
}

// release returns pc to the pool, or closes it if it cannot be reused.
func (p *connPool) release(pc *poolConn, reuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !reuse || p.closed {
		pc.nc.Close()
		delete(p.all, pc)
		p.open--
		p.passSlotLocked()
		return
	}
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.dequeue(w)
		w.ch <- grant{pc: pc}
		return
	}
	pc.lastUse = time.Now()
	p.idle = append(p.idle, pc)
	if p.reaper == nil {
		p.reaper = time.AfterFunc(p.idleFor, p.reap)
	}
}

// reap closes connections idle for idleFor and re-arms while any remain.
func (p *connPool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	cutoff := time.Now().Add(-p.idleFor)
	n := 0
	for n < len(p.idle) && p.idle[n].lastUse.Before(cutoff) {
		pc := p.idle[n]
		pc.nc.Close()
		delete(p.all, pc)
		p.open--
		n++
	}
	m := copy(p.idle, p.idle[n:])
	clear(p.idle[m:])
	p.idle = p.idle[:m]
	if len(p.idle) == 0 {
		p.reaper = nil
		return
	}
	p.reaper.Reset(time.Until(p.idle[0].lastUse.Add(p.idleFor)) + time.Millisecond)
}

// close closes every connection, failing exchanges in flight and waiters.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.cancel()
	for pc := range p.all {
		pc.nc.Close()
	}
	for _, w := range p.waiters {
		w.ch <- grant{err: errPoolClosed}
	}
	p.waiters, p.idle = nil, nil
	if p.reaper != nil {
		p.reaper.Stop()
	}
}

// countingConn counts a client socket's bytes.
type countingConn struct{ net.Conn }

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	wirestats.Client.In.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	wirestats.Client.Out.Add(uint64(n))
	return n, err
}
