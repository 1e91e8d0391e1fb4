package tcp

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/framing"
	"rpcbench/transports/gnetlog"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// gnetListener is the "gnet" engine: gnet's event loops own every accepted
// connection's reads and writes. Accepting happens on a plain net.Listener
// whose sockets are enrolled into the loops, so that Close stops accepting
// at once while open connections drain (gnet's own listener cannot be
// closed without stopping the whole engine). Frames are parsed on the event
// loop and handed to the server core, which runs handlers on their own
// goroutines; replies leave through AsyncWrite, coalesced per connection.
type gnetListener struct {
	gnet.BuiltinEventEngine
	t   *Transport
	nl  net.Listener
	cli *gnet.Client

	handler rpcbench.ConnHandler
	admit   *admit.Conns
	budget  *admit.Bytes
	paused  atomic.Int32 // connections whose reading waits for replies to drain

	mu        sync.Mutex
	conns     map[*gnetConn]struct{}
	closing   bool
	stopStart sync.Once
	stopped   chan struct{} // closed once the event loops have exited
}

func listenGnet(t *Transport, network, address string) (*gnetListener, error) {
	l := &gnetListener{t: t, conns: map[*gnetConn]struct{}{}, stopped: make(chan struct{}),
		admit: admit.NewConns("tcp", t.opts.Limits, t.opts.Logf), budget: admit.NewBytes(t.opts.Limits.MaxInProgress)}
	opts := []gnet.Option{
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetlog.Quiet{Prefix: "tcp: "}),
	}
	// Each loop blocks in epoll_wait holding a P until sysmon takes it
	// back, so one loop per CPU starves the handler goroutines on small
	// machines: the default is half the CPUs.
	loops := t.opts.GnetLoops
	if loops <= 0 {
		loops = max(1, runtime.GOMAXPROCS(0)/2)
	}
	opts = append(opts, gnet.WithNumEventLoop(loops))
	cli, err := gnet.NewClient(l, opts...)
	if err != nil {
		return nil, fmt.Errorf("tcp: gnet engine: %w", err)
	}
	nl, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	if err := cli.Start(); err != nil {
		nl.Close()
		return nil, fmt.Errorf("tcp: gnet engine: %w", err)
	}
	l.nl, l.cli = nl, cli
	return l, nil
}

func (l *gnetListener) Addr() net.Addr { return l.nl.Addr() }

// Serve accepts until Close, then waits for the open connections to be
// closed by the server and the event loops to stop.
func (l *gnetListener) Serve(h rpcbench.ConnHandler) error {
	l.mu.Lock()
	if l.handler != nil {
		l.mu.Unlock()
		return errors.New("tcp: Serve called twice")
	}
	l.handler = h
	l.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := l.nl.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !l.admit.Admit(nc.RemoteAddr()) {
			nc.Close()
			continue
		}
		addr := nc.RemoteAddr()
		if _, err := l.cli.Enroll(nc); err != nil { // Enroll dups the socket and closes nc
			nc.Close()
			l.admit.Release(addr)
		}
	}
	l.Close()
	<-l.stopped
	return net.ErrClosed
}

// Close stops accepting; open connections stay until the server closes
// them, and the event loops stop with the last.
func (l *gnetListener) Close() error {
	l.mu.Lock()
	first := !l.closing
	l.closing = true
	n := len(l.conns)
	l.mu.Unlock()
	if first {
		l.nl.Close()
	}
	if n == 0 {
		l.stop()
	}
	return nil
}

func (l *gnetListener) stop() {
	l.stopStart.Do(func() {
		go func() {
			l.cli.Stop()
			close(l.stopped)
		}()
	})
}

func (l *gnetListener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		l.admit.Release(c.RemoteAddr())
		return nil, gnet.Close
	}
	g := &gnetConn{c: c, q: framing.NewQueue(1 << 62), addr: c.RemoteAddr()}
	g.touch()
	l.conns[g] = struct{}{}
	l.mu.Unlock()
	c.SetContext(g)
	g.written = func(_ gnet.Conn, err error) error { g.flush(g.q.Next(err)); return nil }
	g.sess = l.handler.Connect(g)
	return nil, gnet.None
}

func (l *gnetListener) OnClose(c gnet.Conn, err error) gnet.Action {
	g, _ := c.Context().(*gnetConn)
	if g == nil {
		return gnet.None
	}
	g.q.Fail(net.ErrClosed)
	if err == nil {
		err = net.ErrClosed
	}
	g.sess.Disconnect(err)
	l.budget.Give(g.charged)
	if g.paused {
		l.paused.Add(-1)
	}
	l.admit.Release(g.addr)
	l.mu.Lock()
	delete(l.conns, g)
	last := l.closing && len(l.conns) == 0
	l.mu.Unlock()
	if last {
		l.stop()
	}
	return gnet.None
}

// OnTraffic parses every whole frame buffered. The length is checked from
// the header before anything is discarded, and a frame is consumed only
// once all of it has arrived. Replies sent meanwhile (by calls answered on
// the event loop, rpcbench.Inline) are held and leave in one write.
//
// gnet reads whatever arrives, so bounds are kept here: while more than
// replyBacklog bytes of replies wait for a client that does not read,
// frames stay unconsumed (OnTick wakes the connection to look again), and
// the bytes a connection leaves buffered are charged to the in-progress
// budgets, past which it is closed; a partial frame older than
// FrameTimeout closes it on the next tick.
func (l *gnetListener) OnTraffic(c gnet.Conn) gnet.Action {
	g := c.Context().(*gnetConn)
	now := g.touch()
	g.q.Cork()
	defer func() {
		if g.q.Uncork() {
			g.flush(g.q.Take())
		}
	}()
	consumed := false
	for {
		n := c.InboundBuffered()
		if n < wire.HeaderLen || g.setPaused(l, c.OutboundBuffered() > replyBacklog) {
			return l.held(g, n, consumed, now)
		}
		f, size, ok := nextFrame(c, l.t.opts.MaxPayload)
		if !ok {
			return gnet.Close
		}
		if size == 0 {
			return l.held(g, n, consumed, now)
		}
		g.frame = f
		g.sess.Frame(&g.frame) // copies what it keeps: the payload dies at Discard
		c.Discard(size)
		consumed = true
		wirestats.Server.In.Add(uint64(size))
	}
}

// inbound is the part of gnet.Conn that OnTraffic reads from.
type inbound interface {
	InboundBuffered() int
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// nextFrame returns the whole frame at the front of c, its payload valid
// until the caller discards its size bytes; size 0 if no whole frame is
// buffered yet, ok false if the stream is malformed. The length is checked
// from the header before anything is read beyond it.
func nextFrame(c inbound, maxPayload int) (f wire.Frame, size int, ok bool) {
	n := c.InboundBuffered()
	if n < wire.HeaderLen {
		return f, 0, true
	}
	hdr, err := c.Peek(wire.HeaderLen)
	if err != nil {
		return f, 0, false
	}
	f, plen, err := wire.ParseHeader(hdr, maxPayload)
	if err != nil {
		return f, 0, false
	}
	if n < wire.HeaderLen+plen {
		return f, 0, true
	}
	buf, err := c.Peek(wire.HeaderLen + plen)
	if err != nil {
		return f, 0, false
	}
	f.Payload = buf[wire.HeaderLen:]
	return f, wire.HeaderLen + plen, true
}

// replyBacklog is how many bytes of replies may wait in gnet's outbound
// buffer before a connection's requests wait (the net engine's queue
// limit).
const replyBacklog = framing.DefaultQueueLimit

// heldFree is what a connection may leave buffered without a charge to
// the in-progress budgets (the net engine's initial read buffer).
const heldFree = 16 << 10

// held accounts for the n bytes OnTraffic leaves buffered: the time a
// partial frame started, and the budgets' charge for its bytes.
func (l *gnetListener) held(g *gnetConn, n int, consumed bool, now int64) gnet.Action {
	switch {
	case n == 0:
		if g.partialSince.Load() != 0 {
			g.partialSince.Store(0)
		}
	case consumed || g.partialSince.Load() == 0:
		g.partialSince.Store(now)
	}
	want := max(n-heldFree, 0)
	switch lim := l.t.opts.Limits; {
	case want > g.charged && (lim.MaxInProgressPerConn > 0 && want > lim.MaxInProgressPerConn || !l.budget.Take(want-g.charged, time.Time{})):
		l.t.logf("tcp: dropping %v: %d bytes of requests buffered, over the in-progress budget (MaxInProgress %d, MaxInProgressPerConn %d)",
			g.addr, n, lim.MaxInProgress, lim.MaxInProgressPerConn)
		return gnet.Close
	case want != g.charged:
		l.budget.Give(g.charged - want) // negative when it grew: taken above
		g.charged = want
	}
	return gnet.None
}

// setPaused records whether the connection's requests wait for its
// replies to drain, and returns that.
func (g *gnetConn) setPaused(l *gnetListener, p bool) bool {
	if p != g.paused {
		g.paused = p
		if p {
			l.paused.Add(1)
		} else {
			l.paused.Add(-1)
		}
	}
	return p
}

// OnTick drops connections idle past the read-idle timeout or inside a
// frame past the frame timeout, and wakes those paused for their replies
// to drain.
func (l *gnetListener) OnTick() (time.Duration, gnet.Action) {
	idle, frame := l.t.opts.ReadIdleTimeout, l.t.opts.Limits.FrameTimeout
	now := time.Now().UnixNano()
	paused := l.paused.Load() > 0
	l.mu.Lock()
	for g := range l.conns {
		since := g.partialSince.Load()
		switch {
		case idle > 0 && g.lastRead.Load() < now-int64(idle),
			frame > 0 && since != 0 && since < now-int64(frame):
			g.c.Close()
		case paused:
			g.c.Wake(nil) // OnTraffic checks the replies again
		}
	}
	l.mu.Unlock()
	next := time.Second
	for _, d := range []time.Duration{idle / 4, frame / 4} {
		if d > 0 {
			next = min(next, d)
		}
	}
	if paused {
		next = min(next, 10*time.Millisecond)
	}
	return next, gnet.None
}

// gnetConn is one gnet connection as the server core sees it.
type gnetConn struct {
	c        gnet.Conn
	sess     rpcbench.Session
	q        *framing.Queue // unbounded: a sender on the event loop must never block
	written  gnet.AsyncCallback
	lastRead atomic.Int64
	frame    wire.Frame // the frame being delivered, kept here so it need not escape
	addr     net.Addr

	// Owned by the event loop, but partialSince, which OnTick reads.
	partialSince atomic.Int64 // unix ns a partial frame was first left buffered; 0: none
	charged      int          // bytes held against the in-progress budget
	paused       bool         // requests wait for replies to drain
}

func (g *gnetConn) touch() int64 {
	now := time.Now().UnixNano()
	g.lastRead.Store(now)
	return now
}

// Send queues f; the sender that finds the queue idle starts an
// asynchronous write, whose completion writes whatever queued meanwhile.
func (g *gnetConn) Send(f *wire.Frame) error {
	writer, err := g.q.Push(f)
	if writer {
		g.flush(g.q.Take())
	}
	return err
}

func (g *gnetConn) flush(batch []byte) {
	if batch == nil {
		return
	}
	wirestats.Server.Out.Add(uint64(len(batch)))
	if err := g.c.AsyncWrite(batch, g.written); err != nil {
		g.flush(g.q.Next(err))
	}
}

// Close closes the connection once queued replies have been handed to
// gnet, which writes them before it processes the close.
func (g *gnetConn) Close() error {
	if g.q.Close(func() { g.c.Close() }) {
		g.flush(g.q.Take())
	}
	return nil
}
func (g *gnetConn) RemoteAddr() net.Addr { return g.c.RemoteAddr() }
