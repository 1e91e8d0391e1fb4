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

	"rpcbench/transports/tlsconf"
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
	deadline time.Time // set on nc; zero if none
	watch    ctxWatch
}

// ctxWatch aborts the exchange in progress on a connection when its
// context ends. The context.AfterFunc it arms stays armed across calls
// whose contexts share a Done channel (one long-lived context for many
// calls, or values layered on it), so that such calls do not pay for
// registering with the parent context and removing themselves again.
type ctxWatch struct {
	mu      sync.Mutex
	done    <-chan struct{} // of the armed context, nil if none
	stop    func() bool
	gen     uint64 // of the armed registration, from 1
	busyGen uint64 // registration of the exchange in progress; 0 when idle
	id      uint64 // the exchange in progress
	aborted bool
}

// begin marks exchange id under ctx in progress on pc, and arms onAbort(id)
// (after closing the connection) for when ctx ends first. It returns false
// if ctx has already ended.
func (pc *poolConn) begin(ctx context.Context, id uint64, onAbort func(uint64)) bool {
	done := ctx.Done()
	if done == nil {
		return true
	}
	w := &pc.watch
	w.mu.Lock()
	if done != w.done {
		if w.stop != nil {
			w.stop()
		}
		w.gen++
		gen := w.gen
		w.done = done
		// Runs at once on a goroutine of its own if ctx has ended already:
		// not under w.mu.
		w.stop = context.AfterFunc(ctx, func() { pc.abort(gen, onAbort) })
	}
	w.busyGen, w.id, w.aborted = w.gen, id, false
	w.mu.Unlock()
	// An ending that came before busyGen was set aborted nothing.
	return ctx.Err() == nil
}

// abort ends the exchange in progress if it runs under registration gen.
func (pc *poolConn) abort(gen uint64, onAbort func(uint64)) {
	w := &pc.watch
	w.mu.Lock()
	hit, id := w.busyGen == gen, w.id
	if hit {
		w.aborted = true
	}
	w.mu.Unlock()
	if hit {
		pc.nc.Close() // ends the exchange now, whatever the server does
		onAbort(id)
	}
}

// end marks the exchange over; it reports whether its context's end
// aborted it.
func (pc *poolConn) end() (aborted bool) {
	w := &pc.watch
	w.mu.Lock()
	aborted, w.busyGen, w.aborted = w.aborted, 0, false
	w.mu.Unlock()
	return aborted
}

// unwatch disarms the watch of a connection being closed.
func (pc *poolConn) unwatch() {
	w := &pc.watch
	w.mu.Lock()
	if w.stop != nil {
		w.stop()
		w.stop, w.done = nil, nil
	}
	w.mu.Unlock()
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
		addr: addr, tls: tlsconf.ForAddr(t.opts.TLS, addr), max: max, wait: wait,
		idleFor: t.opts.MaxIdleConnDuration, dialFor: t.opts.DialTimeout, maxBody: t.opts.MaxPayload,
		all: map[*poolConn]struct{}{},
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
	if err := pc.setDeadline(deadline); err != nil {
		return err
	}
	werr := req.Write(pc.bw)
	if werr == nil {
		werr = pc.bw.Flush()
	}
	if werr != nil {
		// A server that refuses a request (413) answers and closes without
		// reading the rest of the body, which can fail our write: its
		// answer may be waiting all the same.
		if pc.deadline.IsZero() {
			pc.deadline = time.Now().Add(100 * time.Millisecond)
			pc.nc.SetReadDeadline(pc.deadline)
		}
		if resp.ReadLimitBody(pc.br, maxBody) == nil {
			resp.SetConnectionClose()
			return nil
		}
		return werr
	}
	return resp.ReadLimitBody(pc.br, maxBody)
}

// setDeadline bounds the exchange about to start; zero means no bound. A
// call's deadline only guards against a server that stopped answering
// (the server enforces the call's budget), so a deadline already set a
// little later, by under 1/16 of the time left, is kept: calls under one
// long-lived context then skip re-arming the poller's timer every call.
func (pc *poolConn) setDeadline(d time.Time) error {
	switch {
	case d.IsZero() && pc.deadline.IsZero():
		return nil
	case !d.IsZero() && !pc.deadline.Before(d) && pc.deadline.Sub(d) < time.Until(d)/16:
		return nil
	}
	if err := pc.nc.SetDeadline(d); err != nil {
		return err
	}
	pc.deadline = d
	return nil
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
		pc.unwatch()
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
		pc.unwatch()
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
		pc.unwatch()
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
