package quic

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/transports/framing"
	"rpcbench/wire"
)

// Mux mode: long-lived streams, each a framing.Conn, as over TCP.

// streamConn adapts a QUIC stream to net.Conn for package framing. Close
// ends both directions, so that a reader blocked on the stream returns.
type streamConn struct {
	*quicgo.Stream
	conn *quicgo.Conn
}

func (s streamConn) LocalAddr() net.Addr  { return s.conn.LocalAddr() }
func (s streamConn) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

func (s streamConn) Close() error {
	s.Stream.CancelRead(streamClosed)
	return s.Stream.Close()
}

// muxServer is the ServerConn of a mux-mode connection. A reply goes on the
// accepted stream of index RequestID mod n: the stream its request came on
// when the client has opened its streams in order, any live stream
// otherwise (the client routes replies by request ID).
type muxServer struct {
	*serverConn
	mu      sync.RWMutex
	streams []*framing.Conn
}

var _ rpcbench.ServerConn = (*muxServer)(nil)

func serveMux(base *serverConn, h rpcbench.ConnHandler) {
	s := &muxServer{serverConn: base}
	base.goAway = s.goAway
	base.sess = h.Connect(s)
	var wg sync.WaitGroup
	for {
		str, err := s.conn.AcceptStream(context.Background())
		if err != nil {
			break
		}
		if s.closing.Load() {
			refuse(str)
			continue
		}
		// No idle timeout: a client's streams wait idle between calls (its
		// heartbeats use one); MaxStreams caps them, FrameTimeout ends
		// those that start a frame and stall.
		fc := framing.NewConn(streamConn{str, s.conn}, framing.Options{MaxPayload: s.maxPayload, FrameTimeout: s.frameTimeout, Budget: s.budget})
		s.mu.Lock()
		s.streams = append(s.streams, fc)
		s.mu.Unlock()
		wg.Go(func() { s.read(fc) })
	}
	wg.Wait()
	s.disconnect()
}

// read passes one stream's frames to the session. A malformed frame drops
// the whole connection, as a TCP transport drops its socket.
// Replies to a burst of requests leave in one stream write (see
// framing.Conn.Deliver): a QUIC stream write is cheap, but each one can
// wake the connection's sender for a packet of its own.
func (s *muxServer) read(fc *framing.Conn) {
	err := fc.Deliver(s.frame)
	s.drop(fc)
	var serr *quicgo.StreamError
	var aerr *quicgo.ApplicationError
	if err != io.EOF && !errors.As(err, &serr) && !errors.As(err, &aerr) && s.conn.Context().Err() == nil && !s.closing.Load() {
		s.protocolError(err)
	}
}

// drop forgets a stream that ended.
func (s *muxServer) drop(fc *framing.Conn) {
	fc.Close()
	s.mu.Lock()
	for i, x := range s.streams {
		if x == fc {
			s.streams = append(s.streams[:i], s.streams[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// goAway flushes every stream and ends it with FIN: the client reads the
// replies already queued, then EOF.
func (s *muxServer) goAway() {
	s.mu.RLock()
	streams := append([]*framing.Conn(nil), s.streams...)
	s.mu.RUnlock()
	for _, fc := range streams {
		fc.Close()
	}
}

// Send implements rpcbench.ServerConn.
func (s *muxServer) Send(f *wire.Frame) error {
	s.mu.RLock()
	n := len(s.streams)
	if n == 0 {
		s.mu.RUnlock()
		return net.ErrClosed
	}
	fc := s.streams[f.RequestID%uint64(n)]
	s.mu.RUnlock()
	return fc.Send(f)
}

// muxClient sends request r on stream r mod n and merges the streams'
// replies into Recv.
type muxClient struct {
	ep      *endpoint
	streams []*framing.Conn

	// With several streams, one reader per stream hands its frame over and
	// waits until the next Recv, so that payloads stay valid without a copy.
	items    chan muxItem
	acks     []chan struct{}
	lastAck  int
	ended    int // streams whose reader has stopped
	firstErr error

	closeOnce sync.Once
}

type muxItem struct {
	f   wire.Frame
	err error
	i   int
}

var _ rpcbench.ClientConn = (*muxClient)(nil)

func newMuxClient(ctx context.Context, t *Transport, ep *endpoint) (*muxClient, error) {
	c := &muxClient{ep: ep, lastAck: -1}
	for range t.opts.MuxStreams {
		str, err := ep.conn.OpenStreamSync(ctx)
		if err != nil {
			ep.close(codeClosed, "dial failed")
			return nil, err
		}
		c.streams = append(c.streams, framing.NewConn(streamConn{str, ep.conn}, framing.Options{MaxPayload: t.opts.MaxPayload}))
	}
	if len(c.streams) > 1 {
		c.items = make(chan muxItem)
		for i, fc := range c.streams {
			ack := make(chan struct{})
			c.acks = append(c.acks, ack)
			go c.pump(i, fc, ack)
		}
	}
	return c, nil
}

func (c *muxClient) pump(i int, fc *framing.Conn, ack chan struct{}) {
	done := c.ep.conn.Context().Done()
	for {
		f, err := fc.Recv()
		select {
		case c.items <- muxItem{f, err, i}:
		case <-done:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-ack:
		case <-done:
			return
		}
	}
}

// Send implements rpcbench.ClientConn.
func (c *muxClient) Send(f *wire.Frame) error {
	return c.streams[f.RequestID%uint64(len(c.streams))].Send(f)
}

// Recv implements rpcbench.ClientConn.
func (c *muxClient) Recv() (wire.Frame, error) {
	if len(c.streams) == 1 {
		return c.streams[0].Recv()
	}
	if c.lastAck >= 0 {
		select {
		case c.acks[c.lastAck] <- struct{}{}:
		case <-c.ep.conn.Context().Done():
		}
		c.lastAck = -1
	}
	for {
		select {
		case it := <-c.items:
			if it.err != nil {
				// A stream ending is the server's go-away; replies still
				// queued on the other streams come first.
				if c.firstErr == nil {
					c.firstErr = it.err
				}
				if c.ended++; c.ended < len(c.streams) {
					continue
				}
				return wire.Frame{}, c.firstErr
			}
			c.lastAck = it.i
			return it.f, nil
		case <-c.ep.conn.Context().Done():
			return wire.Frame{}, connErr(c.ep.conn)
		}
	}
}

// Close implements rpcbench.ClientConn.
func (c *muxClient) Close() error {
	c.closeOnce.Do(func() { c.ep.close(codeClosed, "client closed") })
	return nil
}
