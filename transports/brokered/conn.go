package brokered

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/internal/bufpool"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// Conn is the client side of a brokered connection: an
// rpcbench.ClientConn over a Link. Send and Close are safe for concurrent
// use; Recv belongs to one goroutine, as the interface says.
type Conn struct {
	name       string // the transport's, in errors
	link       Link
	maxPayload int

	in   chan wire.Frame // replies and local errors, in arrival order
	done chan struct{}   // closed when the connection ends
	end  sync.Once
	err  error // why, once done is closed
}

var (
	_ rpcbench.ClientConn = (*Conn)(nil)
	_ Replies             = (*Conn)(nil)
)

// replyQueue is how many replies may wait for the core's reader before
// the link's delivery goroutine waits too.
const replyQueue = 256

// errClosed is Recv's error after Close.
var errClosed = errors.New("connection closed")

// Dial returns a connection of the transport called name whose link open
// makes; open receives the Conn as the link's Replies. maxPayload caps
// reply payloads (0: wire's default).
func Dial(name string, maxPayload int, open func(Replies) (Link, error)) (*Conn, error) {
	if maxPayload <= 0 {
		maxPayload = wire.DefaultMaxPayload
	}
	c := &Conn{name: name, maxPayload: maxPayload, in: make(chan wire.Frame, replyQueue), done: make(chan struct{})}
	link, err := open(c)
	if err != nil {
		return nil, err
	}
	c.link = link
	return c, nil
}

// Send publishes f to the service. A request over the broker's message
// limit is not sent: it fails alone, with resource exhausted, instead of
// breaking the connection or waiting for a reply that cannot come.
func (c *Conn) Send(f *wire.Frame) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	buf := bufpool.Get()
	defer bufpool.Put(buf)
	*buf = wire.Append((*buf)[:0], f)
	if n, limit := len(*buf), c.link.MaxBody(); n > limit {
		if f.Kind != wire.KindRequest {
			return fmt.Errorf("%s: a %v frame of %d bytes is over the broker's %d-byte message limit", c.name, f.Kind, n, limit)
		}
		c.fail(f.RequestID, rpcbench.CodeResourceExhausted,
			fmt.Sprintf("%s: a request of %d bytes (frame header included) is over the broker's %d-byte message limit", c.name, n, limit))
		return nil
	}
	r := Request{Body: *buf, Corr: f.RequestID}
	if f.BudgetMicros > 0 {
		r.TTL = time.Duration(f.BudgetMicros) * time.Microsecond
	}
	if err := c.link.Publish(r); err != nil {
		return fmt.Errorf("%s: publish: %w", c.name, err)
	}
	wirestats.Client.Out.Add(uint64(len(*buf)))
	return nil
}

// fail answers request id with an error frame made here.
func (c *Conn) fail(id uint64, code rpcbench.Code, msg string) {
	f := wire.Frame{Kind: wire.KindError, RequestID: id, Payload: wire.AppendError(nil, uint16(code), msg)}
	select {
	case c.in <- f:
	case <-c.done:
	}
}

// Recv returns the next reply; its payload stays valid (it is not reused).
func (c *Conn) Recv() (wire.Frame, error) {
	select {
	case f := <-c.in: // replies that arrived before the end go first
		return f, nil
	default:
	}
	select {
	case f := <-c.in:
		return f, nil
	case <-c.done:
		return wire.Frame{}, c.err
	}
}

// Close ends the connection: Recv returns an error, the link closes.
func (c *Conn) Close() error {
	c.stop(errClosed)
	return c.link.Close()
}

func (c *Conn) stop(err error) {
	c.end.Do(func() {
		c.err = err
		close(c.done)
	})
}

// Reply implements Replies. A message that is not a frame is dropped: it
// did not come from an rpcbench server.
func (c *Conn) Reply(body []byte) {
	wirestats.Client.In.Add(uint64(len(body)))
	f, err := wire.ParseDatagram(body, c.maxPayload)
	if err != nil {
		return
	}
	select {
	case c.in <- f:
	case <-c.done:
	}
}

// Undeliverable implements Replies: no server consumes the service's
// requests, which is what a refused TCP connection says.
func (c *Conn) Undeliverable(corr uint64, why string) {
	c.fail(corr, rpcbench.CodeUnavailable, fmt.Sprintf("%s: %s", c.name, why))
}

// Lost implements Replies.
func (c *Conn) Lost(err error) {
	c.stop(fmt.Errorf("%s: broker connection lost: %w", c.name, err))
}
