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

	mu        sync.Mutex
	conns     map[*gnetConn]struct{}
	closing   bool
	stopStart sync.Once
	stopped   chan struct{} // closed once the event loops have exited
}

func listenGnet(t *Transport, network, address string) (*gnetListener, error) {
	l := &gnetListener{t: t, conns: map[*gnetConn]struct{}{}, stopped: make(chan struct{})}
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
		if _, err := l.cli.Enroll(nc); err != nil { // Enroll dups the socket and closes nc
			nc.Close()
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
		return nil, gnet.Close
	}
	g := &gnetConn{c: c, q: framing.NewQueue(1 << 62)}
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
func (l *gnetListener) OnTraffic(c gnet.Conn) gnet.Action {
	g := c.Context().(*gnetConn)
	g.touch()
	g.q.Cork()
	defer func() {
		if g.q.Uncork() {
			g.flush(g.q.Take())
		}
	}()
	if !drainFrames(c, l.t.opts.MaxPayload, func(f *wire.Frame, n int) {
		g.frame = *f
		g.sess.Frame(&g.frame) // copies what it keeps: the payload dies at Discard
		wirestats.Server.In.Add(uint64(n))
	}) {
		return gnet.Close
	}
	return gnet.None
}

// inbound is the part of gnet.Conn that OnTraffic reads from.
type inbound interface {
	InboundBuffered() int
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// drainFrames hands every whole frame buffered in c to deliver, with its
// size on the wire, and consumes it after deliver returns: the payload is
// valid only until then. The length is checked from the header before
// anything is discarded, and a frame is consumed only once all of it has
// arrived. It returns false on a malformed stream.
func drainFrames(c inbound, maxPayload int, deliver func(f *wire.Frame, n int)) bool {
	for {
		n := c.InboundBuffered()
		if n < wire.HeaderLen {
			return true
		}
		hdr, err := c.Peek(wire.HeaderLen)
		if err != nil {
			return false
		}
		f, plen, err := wire.ParseHeader(hdr, maxPayload)
		if err != nil {
			return false
		}
		if n < wire.HeaderLen+plen {
			return true
		}
		buf, err := c.Peek(wire.HeaderLen + plen)
		if err != nil {
			return false
		}
		f.Payload = buf[wire.HeaderLen:]
		deliver(&f, wire.HeaderLen+plen)
		c.Discard(wire.HeaderLen + plen)
	}
}

// OnTick drops connections idle past the read-idle timeout.
func (l *gnetListener) OnTick() (time.Duration, gnet.Action) {
	idle := l.t.opts.ReadIdleTimeout
	if idle <= 0 {
		return time.Second, gnet.None
	}
	cutoff := time.Now().Add(-idle).UnixNano()
	l.mu.Lock()
	for g := range l.conns {
		if g.lastRead.Load() < cutoff {
			g.c.Close()
		}
	}
	l.mu.Unlock()
	return min(idle/4, time.Second), gnet.None
}

// gnetConn is one gnet connection as the server core sees it.
type gnetConn struct {
	c        gnet.Conn
	sess     rpcbench.Session
	q        *framing.Queue // unbounded: a sender on the event loop must never block
	written  gnet.AsyncCallback
	lastRead atomic.Int64
	frame    wire.Frame // the frame being delivered, kept here so it need not escape
}

func (g *gnetConn) touch() { g.lastRead.Store(time.Now().UnixNano()) }

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
