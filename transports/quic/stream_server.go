package quic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/internal/bufpool"
	"rpcbench/internal/workerpool"
	"rpcbench/wire"
)

// Stream mode, server side: every stream carries one call.

// maxParkedReaders bounds the idle stream readers a connection keeps.
const maxParkedReaders = 256

// streamServer is the ServerConn of a stream-mode connection: replies find
// their stream by request ID.
type streamServer struct {
	*serverConn
	mu    sync.Mutex
	calls map[uint64]*serverCall
}

// serverCall is a request whose reply has not been written yet.
type serverCall struct {
	str  *quicgo.Stream
	stop func() bool // stops the cancellation watch
}

var _ rpcbench.ServerConn = (*streamServer)(nil)

func serveStreams(base *serverConn, h rpcbench.ConnHandler) {
	s := &streamServer{serverConn: base, calls: map[uint64]*serverCall{}}
	base.goAway = s.goAway
	base.sess = h.Connect(s)
	var wg sync.WaitGroup
	readers := workerpool.New(func(str *quicgo.Stream) {
		s.handle(str)
		wg.Done()
	}, workerpool.Options{Done: s.conn.Context().Done(), MaxParked: maxParkedReaders})
	for {
		str, err := s.conn.AcceptStream(context.Background())
		if err != nil {
			break
		}
		if s.closing.Load() {
			refuse(str)
			continue
		}
		wg.Add(1)
		readers.Dispatch(str)
	}
	wg.Wait()
	s.disconnect()
}

// goAway tells the client, on an empty unidirectional stream, to stop
// sending calls and hang up once it has its replies.
func (s *streamServer) goAway() {
	if str, err := s.conn.OpenUniStream(); err == nil {
		str.Close()
	}
}

func (s *streamServer) handle(str *quicgo.Stream) {
	buf := bufpool.Get()
	fb := frameBudget{b: s.budget, wait: s.frameTimeout}
	defer func() {
		bufpool.Put(buf)
		fb.release()
	}()
	if s.frameTimeout > 0 {
		// The stream exists because its first bytes came: the whole frame
		// must follow within the frame timeout.
		str.SetReadDeadline(time.Now().Add(s.frameTimeout))
	}
	f, err := readFrame(str, buf, s.maxPayload, &fb)
	if err != nil {
		var serr *quicgo.StreamError
		var aerr *quicgo.ApplicationError
		switch {
		case errors.As(err, &serr), errors.As(err, &aerr), s.conn.Context().Err() != nil:
			// The client reset the stream (a call cancelled while being
			// sent) or the connection is gone: nothing to answer.
			str.CancelRead(streamCanceled)
			str.CancelWrite(streamCanceled)
		default:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("quic: a frame took longer than %v to arrive (FrameTimeout): %w", s.frameTimeout, err)
			}
			s.protocolError(err)
		}
		return
	}
	switch f.Kind {
	case wire.KindPing:
		// Liveness is the transport's to answer: the pong proves that this
		// connection still accepts and serves streams.
		pong := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID}
		b := appendFrame(&pong)
		str.Write(*b)
		bufpool.Put(b)
		str.Close()
	case wire.KindRequest:
		c := &serverCall{str: str}
		s.mu.Lock()
		if _, dup := s.calls[f.RequestID]; dup {
			s.mu.Unlock()
			s.protocolError(fmt.Errorf("quic: request ID %d is already in flight", f.RequestID))
			return
		}
		s.calls[f.RequestID] = c
		s.mu.Unlock()
		// STOP_SENDING from the client (a cancelled call) ends the send
		// side's context; so does the connection ending.
		id := f.RequestID
		c.stop = context.AfterFunc(str.Context(), func() { s.cancel(id, c) })
		s.frame(&f)
	case wire.KindCancel:
		s.frame(&f)
		str.Close()
	default:
		s.protocolError(fmt.Errorf("quic: a client sent a %v frame", f.Kind))
	}
}

// cancel passes a cancellation of the call's stream to the core.
func (s *streamServer) cancel(id uint64, c *serverCall) {
	s.mu.Lock()
	if s.calls[id] != c {
		s.mu.Unlock()
		return // answered already
	}
	delete(s.calls, id)
	s.mu.Unlock()
	c.str.CancelWrite(streamCanceled)
	c.str.CancelRead(streamCanceled)
	cf := wire.Frame{Kind: wire.KindCancel, RequestID: id}
	s.frame(&cf)
}

// Send implements rpcbench.ServerConn: the reply goes on its request's
// stream, which it then closes. Replies to calls that were cancelled, and
// frames that answer nothing (pongs are sent by handle), are dropped.
func (s *streamServer) Send(f *wire.Frame) error {
	if f.Kind != wire.KindResponse && f.Kind != wire.KindError {
		return nil
	}
	s.mu.Lock()
	c := s.calls[f.RequestID]
	delete(s.calls, f.RequestID)
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	if !c.stop() {
		// The stream was cancelled or the connection ended meanwhile.
		return nil
	}
	b := appendFrame(f)
	_, err := c.str.Write(*b)
	bufpool.Put(b)
	if err != nil {
		c.str.CancelWrite(streamCanceled)
		return err
	}
	return c.str.Close()
}
