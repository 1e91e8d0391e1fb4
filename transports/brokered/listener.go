package brokered

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// Settings are what every brokered transport lets its user tune. Zero
// values select the defaults.
type Settings struct {
	// MaxPayload caps frame payloads (0: wire's default, 16 MiB; the
	// broker's message limit may be the lower one).
	MaxPayload int
	// IdleTimeout ends a session nothing has arrived from for this long.
	// Default 2m (clients' heartbeats come every 5s); negative: never.
	IdleTimeout time.Duration
	// Logf receives messages that are not frames; nil: none.
	Logf func(format string, args ...any)
}

// ListenerOptions tune a Listener.
type ListenerOptions struct {
	// Name is the transport's name, in errors and logs.
	Name string
	Settings
}

// Listener is the server side of a brokered transport: an
// rpcbench.Listener whose connections are the reply addresses its
// requests come from.
type Listener struct {
	link ServerLink
	opts ListenerOptions

	mu       sync.Mutex
	h        rpcbench.ConnHandler // set by Serve
	sessions map[string]*serverConn
	closed   bool
	serving  chan struct{} // closed by Serve or Close: requests wait for it
	done     chan struct{} // closed by Close
}

var (
	_ rpcbench.Listener = (*Listener)(nil)
	_ Requests          = (*Listener)(nil)
)

// Listen returns a listener over the link open makes; open receives the
// Listener as the link's Requests. It consumes requests from now on, as a
// listening socket accepts connections, and holds them until Serve.
func Listen(opts ListenerOptions, open func(Requests) (ServerLink, error)) (*Listener, error) {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = wire.DefaultMaxPayload
	}
	l := &Listener{opts: opts, sessions: map[string]*serverConn{}, serving: make(chan struct{}), done: make(chan struct{})}
	link, err := open(l)
	if err != nil {
		return nil, err
	}
	l.link = link
	if err := link.Consume(l); err != nil {
		link.Close()
		return nil, fmt.Errorf("%s: consuming requests: %w", opts.Name, err)
	}
	return l, nil
}

// Addr is the broker address clients dial.
func (l *Listener) Addr() net.Addr { return l.link.Addr() }

// Serve consumes the service's requests until Close.
func (l *Listener) Serve(h rpcbench.ConnHandler) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.h = h
	close(l.serving)
	l.mu.Unlock()
	var tick <-chan time.Time
	if l.opts.IdleTimeout > 0 {
		t := time.NewTicker(l.opts.IdleTimeout / 4)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-l.done:
			return net.ErrClosed
		case now := <-tick:
			l.reap(now)
		}
	}
}

// Close stops consuming requests. Sessions stay open, so that calls in
// flight can still reply, until the server closes them; the broker link
// closes with the last of them.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	if l.h == nil {
		close(l.serving)
	}
	idle := len(l.sessions) == 0
	l.mu.Unlock()
	err := l.link.StopConsuming()
	if idle {
		return errors.Join(err, l.link.Close())
	}
	return err
}

// Request implements Requests: the frame goes to the session of its
// reply address, made on its first message.
func (l *Listener) Request(from string, body []byte) {
	wirestats.Server.In.Add(uint64(len(body)))
	f, err := wire.ParseDatagram(body, l.opts.MaxPayload)
	if err != nil {
		l.logf("%s: dropping a message from %s that is not a frame: %v", l.opts.Name, from, err)
		return
	}
	<-l.serving
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	c := l.sessions[from]
	fresh := c == nil
	if fresh {
		c = &serverConn{l: l, to: from, addr: replyAddr{l.opts.Name, from}}
		l.sessions[from] = c
	}
	c.seen = time.Now()
	h := l.h
	l.mu.Unlock()
	c.frame(&f, h, fresh)
}

// Lost implements Requests: every session ends.
func (l *Listener) Lost(err error) {
	l.closeAll(fmt.Errorf("%s: broker connection lost: %w", l.opts.Name, err))
}

// reap ends the sessions idle since before now-IdleTimeout.
func (l *Listener) reap(now time.Time) {
	var idle []*serverConn
	l.mu.Lock()
	for _, c := range l.sessions {
		if now.Sub(c.seen) > l.opts.IdleTimeout {
			idle = append(idle, c)
		}
	}
	l.mu.Unlock()
	for _, c := range idle {
		c.end(fmt.Errorf("%s: nothing from %s for %v", l.opts.Name, c.to, l.opts.IdleTimeout))
	}
}

func (l *Listener) closeAll(err error) {
	l.mu.Lock()
	all := make([]*serverConn, 0, len(l.sessions))
	for _, c := range l.sessions {
		all = append(all, c)
	}
	l.mu.Unlock()
	for _, c := range all {
		c.end(err)
	}
}

// forget removes c; the link closes with the last session of a closed
// listener.
func (l *Listener) forget(c *serverConn) {
	l.mu.Lock()
	if l.sessions[c.to] == c {
		delete(l.sessions, c.to)
	}
	last := l.closed && len(l.sessions) == 0
	l.mu.Unlock()
	if last {
		l.link.Close()
	}
}

func (l *Listener) logf(format string, args ...any) {
	if l.opts.Logf != nil {
		l.opts.Logf(format, args...)
	}
}

// serverConn is one session: the rpcbench.ServerConn of a reply address.
type serverConn struct {
	l    *Listener
	to   string
	addr replyAddr
	seen time.Time // last message; guarded by l.mu

	mu      sync.Mutex
	sess    rpcbench.Session
	inFrame bool  // the link's goroutine is in sess.Frame (or Connect)
	ended   bool  // Close or end was called
	why     error // the reason given to Disconnect
	gone    bool  // Disconnect was called
}

var _ rpcbench.ServerConn = (*serverConn)(nil)

// frame hands f to the session, connecting it first if fresh. Disconnect
// never runs beside Frame: an end that comes during Frame is carried out
// when Frame returns.
func (c *serverConn) frame(f *wire.Frame, h rpcbench.ConnHandler, fresh bool) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.inFrame = true
	c.mu.Unlock()
	deliver := true
	if fresh {
		s := h.Connect(c)
		c.mu.Lock()
		c.sess, deliver = s, !c.ended // Connect may close it at once
		c.mu.Unlock()
	}
	if deliver {
		c.sess.Frame(f)
	}
	c.mu.Lock()
	c.inFrame = false
	disconnect := c.ended && !c.gone
	c.gone = c.gone || disconnect
	c.mu.Unlock()
	if disconnect {
		c.sess.Disconnect(c.why)
	}
}

// end closes the session with err as the reason.
func (c *serverConn) end(err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended, c.why = true, err
	disconnect := !c.inFrame && c.sess != nil
	c.gone = disconnect
	c.mu.Unlock()
	c.l.forget(c)
	if disconnect {
		c.sess.Disconnect(err)
	}
}

// Send publishes f to the session's reply address. A reply over the
// broker's message limit is replaced by an error saying so.
func (c *serverConn) Send(f *wire.Frame) error {
	buf := bufpool.Get()
	defer bufpool.Put(buf)
	*buf = wire.Append((*buf)[:0], f)
	if n, limit := len(*buf), c.l.link.MaxBody(); n > limit {
		msg := fmt.Sprintf("%s: a reply of %d bytes (frame header included) is over the broker's %d-byte message limit", c.l.opts.Name, n, limit)
		e := wire.Frame{Kind: wire.KindError, CallID: f.CallID, RequestID: f.RequestID, Payload: wire.AppendError(nil, uint16(rpcbench.CodeResourceExhausted), msg)}
		*buf = wire.Append((*buf)[:0], &e)
	}
	if err := c.l.link.Reply(c.to, f.RequestID, *buf); err != nil {
		return err
	}
	wirestats.Server.Out.Add(uint64(len(*buf)))
	return nil
}

// Close ends the session (the client is not told: it has no connection
// to lose, and its next request opens a new session).
func (c *serverConn) Close() error {
	c.end(errSessionClosed)
	return nil
}

var errSessionClosed = errors.New("session closed by the server")

// RemoteAddr is the client's reply address.
func (c *serverConn) RemoteAddr() net.Addr { return c.addr }

type replyAddr struct{ network, to string }

func (a replyAddr) Network() string { return a.network }
func (a replyAddr) String() string  { return a.to }
