package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"rpcbench"
	"rpcbench/transports/gnetlog"
	"rpcbench/wire"
)

// gnetListener is the "gnet" engine. gnet serves UDP with one socket per
// event loop, bound with SO_REUSEPORT, so the kernel steers each client
// address to one loop; OnTraffic runs once per datagram. Handlers run off
// the loops, so replies are written with AsyncWrite on the gnet.Conn of the
// address's first datagram: for UDP that is a sendto on the loop's socket
// to the conn's remote address, which gnet allows from any goroutine and
// which stays valid after OnTraffic returns (gnet v2.9 keeps the address).
// Those sockets close when the engine stops; a lock keeps writes and the
// stop apart.
//
// The engine starts in Serve. From Listen until then a placeholder socket
// in the same SO_REUSEPORT group holds the port, so that the address is
// known and taken at once; datagrams the kernel gives it before it closes
// are lost, which clients recover from like any loss.
type gnetListener struct {
	gnet.BuiltinEventEngine
	opts *Options
	addr *net.UDPAddr
	hold net.PacketConn // placeholder until the engine runs
	d    *dispatcher

	mu      sync.RWMutex // writers hold it shared; stop exclusively
	eng     gnet.Engine
	booted  bool
	stopped bool
	halting bool          // Engine.Stop was called
	down    chan struct{} // closed when Engine.Stop has returned
}

func listenGnet(t *Transport, addr string) (*gnetListener, error) {
	la, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	hold, err := listenReusePort(la)
	if err != nil {
		return nil, fmt.Errorf("udp: gnet engine: %w", err)
	}
	l := &gnetListener{opts: &t.opts, hold: hold, addr: hold.LocalAddr().(*net.UDPAddr), down: make(chan struct{})}
	l.d = newDispatcher(&t.opts, l.write, l.stop)
	l.d.serialWrites = true
	return l, nil
}

// Addr implements rpcbench.Listener.
func (l *gnetListener) Addr() net.Addr { return l.addr }

// Close implements rpcbench.Listener: no new sessions; the engine stops
// when the server has closed the last one.
func (l *gnetListener) Close() error {
	l.d.close()
	return nil
}

// Serve implements rpcbench.Listener: it runs the engine until the
// listener is closed and its last session has ended.
func (l *gnetListener) Serve(h rpcbench.ConnHandler) error {
	if err := l.d.setHandler(h); err != nil {
		return err
	}
	l.mu.RLock()
	stopped := l.stopped
	l.mu.RUnlock()
	if stopped {
		return net.ErrClosed
	}
	opts := []gnet.Option{
		gnet.WithTicker(true),
		gnet.WithLogger(gnetlog.Quiet{Prefix: "udp: "}),
		gnet.WithSocketRecvBuffer(l.opts.SocketBuffer),
		gnet.WithSocketSendBuffer(l.opts.SocketBuffer),
		gnet.WithReadBufferCap(l.opts.recvBuffer()),
	}
	if l.opts.GnetLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(l.opts.GnetLoops))
	} else {
		opts = append(opts, gnet.WithMulticore(true))
	}
	addr := "udp://" + l.addr.String()
	if l.addr.IP == nil || l.addr.IP.Equal(net.IPv6unspecified) {
		// gnet makes "[::]" IPv6-only; no host is dual-stack, as in package net.
		addr = fmt.Sprintf("udp://:%d", l.addr.Port)
	}
	err := gnet.Run(l, addr, opts...)
	l.hold.Close()
	l.d.closeAll()
	l.mu.RLock()
	stopped, halting := l.stopped, l.halting
	l.mu.RUnlock()
	if halting {
		<-l.down
	}
	if stopped || err == nil {
		return net.ErrClosed
	}
	return fmt.Errorf("udp: gnet engine: %w", err)
}

// OnBoot records the engine and lets go of the placeholder socket.
func (l *gnetListener) OnBoot(eng gnet.Engine) gnet.Action {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eng, l.booted = eng, true
	l.hold.Close()
	if l.stopped {
		return gnet.Shutdown
	}
	return gnet.None
}

// OnTraffic dispatches one datagram; its bytes die when this returns, and
// the dispatcher copies what it keeps.
func (l *gnetListener) OnTraffic(c gnet.Conn) gnet.Action {
	ua, ok := c.RemoteAddr().(*net.UDPAddr)
	if !ok {
		return gnet.None
	}
	b, err := c.Next(-1)
	if err != nil {
		return gnet.None
	}
	f := framePool.Get().(*wire.Frame)
	l.d.datagram(b, ua.AddrPort(), c, f)
	*f = wire.Frame{}
	framePool.Put(f)
	return gnet.None
}

// framePool holds the event loops' scratch frames.
var framePool = sync.Pool{New: func() any { return new(wire.Frame) }}

// OnTick runs the dispatcher's janitor.
func (l *gnetListener) OnTick() (time.Duration, gnet.Action) {
	l.d.sweep(time.Now())
	return l.d.sweepEvery(), gnet.None
}

func (l *gnetListener) write(b []byte, _ netip.AddrPort, route any) error {
	c, ok := route.(gnet.Conn)
	if !ok {
		return errors.New("udp: no route to the client")
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.stopped {
		return net.ErrClosed
	}
	return c.AsyncWrite(b, nil)
}

// stop ends the engine (the dispatcher is closed and has no sessions).
// Engine.Stop polls, so it runs on its own goroutine; Serve returns when
// the engine is down.
func (l *gnetListener) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.stopped = true
	if !l.booted {
		l.hold.Close() // Serve has not started the engine, or OnBoot will stop it
		return
	}
	eng := l.eng
	l.halting = true
	go func() {
		defer close(l.down)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Stop(ctx)
	}()
}
