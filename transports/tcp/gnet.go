package tcp

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"rpcbench"
	"rpcbench/transports/framing"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// gnetListener is the "gnet" engine. gnet owns the socket from Listen on;
// connections accepted before Serve wait for it. Frames are parsed on the
// event loop and handed to the server core, which runs handlers on their own
// goroutines; replies leave through AsyncWrite, coalesced per connection.
type gnetListener struct {
	gnet.BuiltinEventEngine
	t    *Transport
	addr net.Addr
	eng  gnet.Engine

	ready   chan struct{} // closed by Serve or Close
	handler rpcbench.ConnHandler
	booted  chan error
	stopped chan error

	mu        sync.Mutex
	conns     map[*gnetConn]struct{}
	closing   bool
	stopStart sync.Once
	stopDone  chan struct{} // closed when Engine.Stop has returned
}

func listenGnet(t *Transport, network, address string) (*gnetListener, error) {
	l := &gnetListener{
		t: t, ready: make(chan struct{}), booted: make(chan error, 1), stopped: make(chan error, 1),
		conns: map[*gnetConn]struct{}{}, stopDone: make(chan struct{}),
	}
	opts := []gnet.Option{
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(true),
		gnet.WithLogLevel(logging.ErrorLevel),
		gnet.WithReuseAddr(true),
	}
	if t.opts.GnetLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(t.opts.GnetLoops))
	} else {
		opts = append(opts, gnet.WithMulticore(true))
	}
	go func() {
		err := gnet.Run(l, network+"://"+address, opts...)
		l.booted <- err // unblocks Listen if boot failed
		l.stopped <- err
	}()
	if err := <-l.booted; err != nil {
		return nil, fmt.Errorf("tcp: gnet engine: %w", err)
	}
	return l, nil
}

// OnBoot learns the bound address (the port may have been 0).
func (l *gnetListener) OnBoot(eng gnet.Engine) gnet.Action {
	l.eng = eng
	fd, err := eng.Dup()
	if err == nil {
		f := os.NewFile(uintptr(fd), "gnet-listener")
		var nl net.Listener
		if nl, err = net.FileListener(f); err == nil {
			l.addr = nl.Addr()
			nl.Close()
		}
		f.Close()
	}
	l.booted <- err
	if err != nil {
		return gnet.Shutdown
	}
	return gnet.None
}

func (l *gnetListener) Addr() net.Addr { return l.addr }

func (l *gnetListener) Serve(h rpcbench.ConnHandler) error {
	l.mu.Lock()
	if l.handler != nil || l.closing {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.handler = h
	close(l.ready)
	l.mu.Unlock()
	err := <-l.stopped
	l.stop() // a no-op unless the engine ended by itself
	<-l.stopDone
	if err == nil {
		err = net.ErrClosed
	}
	return err
}

// Close stops accepting: new connections are closed on arrival, open ones
// stay until the server closes them, and the engine stops with the last.
func (l *gnetListener) Close() error {
	l.mu.Lock()
	if !l.closing {
		l.closing = true
		if l.handler == nil {
			close(l.ready)
		}
	}
	n := len(l.conns)
	l.mu.Unlock()
	if n == 0 {
		l.stop()
	}
	return nil
}

func (l *gnetListener) stop() {
	l.stopStart.Do(func() {
		go func() {
			l.eng.Stop(context.Background())
			close(l.stopDone)
		}()
	})
}

func (l *gnetListener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	<-l.ready
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
// once all of it has arrived.
func (l *gnetListener) OnTraffic(c gnet.Conn) gnet.Action {
	g := c.Context().(*gnetConn)
	g.touch()
	for {
		n := c.InboundBuffered()
		if n < wire.HeaderLen {
			return gnet.None
		}
		hdr, err := c.Peek(wire.HeaderLen)
		if err != nil {
			return gnet.Close
		}
		f, plen, err := wire.ParseHeader(hdr, l.t.opts.MaxPayload)
		if err != nil {
			return gnet.Close
		}
		if n < wire.HeaderLen+plen {
			return gnet.None
		}
		buf, err := c.Peek(wire.HeaderLen + plen)
		if err != nil {
			return gnet.Close
		}
		f.Payload = buf[wire.HeaderLen:]
		g.sess.Frame(&f) // copies what it keeps: buf dies at Discard
		c.Discard(wire.HeaderLen + plen)
		wirestats.Server.In.Add(uint64(wire.HeaderLen + plen))
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
}

func (g *gnetConn) touch() { g.lastRead.Store(time.Now().UnixNano()) }

// Send queues f; the sender that finds the queue idle starts an
// asynchronous write, whose completion writes whatever queued meanwhile.
func (g *gnetConn) Send(f *wire.Frame) error {
	batch, err := g.q.Push(f)
	g.flush(batch)
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
	g.q.Close(func() { g.c.Close() })
	return nil
}
func (g *gnetConn) RemoteAddr() net.Addr { return g.c.RemoteAddr() }
