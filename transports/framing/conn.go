package framing

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// Options tune a Conn.
type Options struct {
	// MaxPayload is the largest frame payload accepted (wire's default if 0).
	MaxPayload int
	// ReadIdleTimeout drops a connection on which nothing arrives for this
	// long; 0 means never. Clients' heartbeats keep healthy connections busy.
	ReadIdleTimeout time.Duration
	// FrameTimeout closes a connection whose frame, once its first byte
	// is in, has not arrived whole after this long; 0 means never. Unlike
	// ReadIdleTimeout, trickling bytes do not extend it.
	FrameTimeout time.Duration
	// Budget, if set, is charged for read buffers grown to hold large
	// frames (see Reader); a frame that cannot get its memory within
	// FrameTimeout drops the connection.
	Budget *admit.Bytes
	// QueueLimit bounds bytes queued behind a slow writer.
	QueueLimit int
	// Conns, if set, admits AcceptLoop's connections: over its caps a
	// connection is closed at once.
	Conns *admit.Conns
	// Stats receives byte counts (nil: none).
	Stats *wirestats.Counter
}

// Conn carries frames over a net.Conn. It implements rpcbench.ClientConn
// and rpcbench.ServerConn: Send is safe for concurrent use and coalesces
// concurrent frames into single writes; Recv belongs to one goroutine.
type Conn struct {
	nc    net.Conn
	q     *Queue
	r     *Reader
	opts  Options
	close sync.Once
	// partialSince is when the reader found part of a frame buffered;
	// zero while frames end at read boundaries. Owned by the reader.
	partialSince time.Time
}

var (
	_ rpcbench.ClientConn = (*Conn)(nil)
	_ rpcbench.ServerConn = (*Conn)(nil)
)

// NewConn wraps nc.
func NewConn(nc net.Conn, opts Options) *Conn {
	c := &Conn{nc: nc, q: NewQueue(opts.QueueLimit), opts: opts}
	c.r = NewReader(deadlineReader{c}, opts.MaxPayload)
	c.r.Budget, c.r.BudgetWait = opts.Budget, opts.FrameTimeout
	if opts.Stats != nil {
		c.r.Count = func(n int) { opts.Stats.In.Add(uint64(n)) }
	}
	return c
}

// deadlineReader sets the read deadline before each read: the idle
// timeout between frames, the frame's own deadline inside one.
type deadlineReader struct{ c *Conn }

func (r deadlineReader) Read(p []byte) (int, error) {
	c := r.c
	idle, frame := c.opts.ReadIdleTimeout, c.opts.FrameTimeout
	if idle <= 0 && frame <= 0 {
		return c.nc.Read(p)
	}
	now := time.Now()
	var deadline time.Time
	if idle > 0 {
		deadline = now.Add(idle)
	}
	inFrame := frame > 0 && c.r.Buffered() > 0
	if inFrame {
		if c.partialSince.IsZero() {
			c.partialSince = now
		}
		if d := c.partialSince.Add(frame); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	c.nc.SetReadDeadline(deadline)
	n, err := c.nc.Read(p)
	if inFrame && err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(c.partialSince.Add(frame)) {
		err = fmt.Errorf("framing: a frame took longer than %v to arrive (FrameTimeout): %w", frame, err)
	}
	return n, err
}

// Send queues f and, if no other sender is writing, writes everything queued.
// The writer first yields the processor once, so that callers already
// runnable can add their frames to the same write: one syscall then carries
// many frames under load, while a lone caller loses almost nothing.
func (c *Conn) Send(f *wire.Frame) error {
	writer, err := c.q.Push(f)
	if !writer {
		return err
	}
	runtime.Gosched()
	if werr := c.write(); werr != nil {
		err = werr
	}
	return err
}

// write is the writer's turn: it writes batches until the queue is empty
// and returns the first write error.
func (c *Conn) write() (err error) {
	for batch := c.q.Take(); batch != nil; {
		n, werr := c.nc.Write(batch)
		if c.opts.Stats != nil {
			c.opts.Stats.Out.Add(uint64(n))
		}
		if werr != nil {
			err = werr
			c.nc.Close()
		}
		batch = c.q.Next(werr)
	}
	return err
}

// flush writes the frames held since cork.
func (c *Conn) flush() {
	if c.q.Uncork() {
		c.write()
	}
}

// Recv returns the next frame; its payload is valid until the next Recv.
func (c *Conn) Recv() (wire.Frame, error) {
	f, err := c.r.Next()
	c.partialSince = time.Time{} // the next frame's time starts with its first byte
	return f, err
}

// closeLinger bounds how long Close waits for queued frames to be written
// to a peer that has stopped reading.
const closeLinger = time.Second

// Close refuses further Sends, lets frames already queued be written, then
// closes the socket (after closeLinger at the latest).
func (c *Conn) Close() error {
	c.close.Do(func() {
		force := time.AfterFunc(closeLinger, func() { c.nc.Close() })
		if c.q.Close(func() { force.Stop(); c.nc.Close() }) {
			go c.write()
		}
	})
	return nil
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Serve runs the server side of one accepted connection until it ends:
// every frame goes to the session that h returns, and a malformed frame,
// an oversize length or an idle timeout drops this connection only.
func Serve(nc net.Conn, h rpcbench.ConnHandler, opts Options) {
	c := NewConn(nc, opts)
	sess := h.Connect(c)
	err := c.Deliver(sess.Frame)
	c.Close()
	sess.Disconnect(err)
}

// Deliver hands every frame received to deliver until Recv fails, and
// returns that error. It is the server's read loop: replies sent while a
// burst of buffered requests is being delivered are held (Cork) and leave
// in one write once the burst is drained, before the next read can
// block, so calls answered on this goroutine (rpcbench.Inline) cost no
// write each. deliver is called on this goroutine; its frame (and the
// payload) is valid until it returns.
func (c *Conn) Deliver(deliver func(*wire.Frame)) error {
	f := new(wire.Frame) // one per connection: the argument escapes
	corked := false
	for {
		if corked && !c.r.Ready() {
			c.flush()
			corked = false
		}
		var err error
		if *f, err = c.Recv(); err != nil {
			if corked {
				c.flush()
			}
			return err
		}
		if !corked {
			c.q.Cork()
			corked = true
		}
		deliver(f)
	}
}

// AcceptLoop accepts connections from l and serves each on its own
// goroutine until l is closed, which returns net.ErrClosed. Temporary accept
// errors (out of file descriptors) back off instead of ending the loop.
func AcceptLoop(l net.Listener, h rpcbench.ConnHandler, opts Options, wrap func(net.Conn) net.Conn) error {
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if opts.Conns != nil && !opts.Conns.Admit(nc.RemoteAddr()) {
			nc.Close()
			continue
		}
		if wrap != nil {
			nc = wrap(nc)
		}
		go func() {
			Serve(nc, h, opts)
			if opts.Conns != nil {
				opts.Conns.Release(nc.RemoteAddr())
			}
		}()
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}
