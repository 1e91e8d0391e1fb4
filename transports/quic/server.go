package quic

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/wire"
)

// listener accepts QUIC connections. Close stops accepting; the socket is
// released once the last open connection has ended too.
type listener struct {
	t      *Transport
	udp    *net.UDPConn
	tr     *quicgo.Transport
	ln     *quicgo.Listener
	admit  *admit.Conns
	budget *admit.Bytes // the listener's, above each connection's

	mu       sync.Mutex
	conns    int
	closed   bool
	released bool
}

func (l *listener) Addr() net.Addr { return l.ln.Addr() }

func (l *listener) Close() error {
	err := l.ln.Close()
	l.mu.Lock()
	l.closed = true
	release := l.conns == 0
	l.mu.Unlock()
	if release {
		l.release()
	}
	return err
}

func (l *listener) release() {
	l.mu.Lock()
	done := l.released
	l.released = true
	l.mu.Unlock()
	if !done {
		l.tr.Close()
		l.udp.Close()
	}
}

func (l *listener) Serve(h rpcbench.ConnHandler) error {
	for {
		conn, err := l.ln.Accept(context.Background())
		if err != nil {
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed || errors.Is(err, quicgo.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			return err
		}
		if !l.admit.Admit(conn.RemoteAddr()) {
			conn.CloseWithError(codeGoingAway, "server refuses more connections (MaxConns, MaxConnsPerAddr)")
			continue
		}
		l.mu.Lock()
		l.conns++
		l.mu.Unlock()
		go l.serveConn(conn, h)
	}
}

func (l *listener) serveConn(conn *quicgo.Conn, h rpcbench.ConnHandler) {
	lim := l.t.opts.Limits
	base := &serverConn{l: l, conn: conn, maxPayload: l.t.opts.MaxPayload,
		budget: admit.Within(l.budget, lim.MaxInProgressPerConn), frameTimeout: lim.FrameTimeout}
	if conn.ConnectionState().TLS.NegotiatedProtocol == ALPNMux {
		serveMux(base, h)
	} else {
		serveStreams(base, h)
	}
	l.admit.Release(conn.RemoteAddr())
	l.mu.Lock()
	l.conns--
	release := l.closed && l.conns == 0
	l.mu.Unlock()
	if release {
		l.release()
	}
}

// serverConn is what both modes share on the server side: the QUIC
// connection, its one core session, and the go-away sequence.
type serverConn struct {
	l          *listener
	conn       *quicgo.Conn
	maxPayload int
	sess       rpcbench.Session
	// Frames being received are charged to budget (the connection's,
	// within the listener's), and must arrive within frameTimeout.
	budget       *admit.Bytes
	frameTimeout time.Duration

	frameMu sync.Mutex // Session.Frame is called by one goroutine at a time
	gone    bool       // Disconnect called: no more frames

	closing   atomic.Bool
	closeOnce sync.Once
	goAway    func() // mode-specific go-away signal
}

// frame hands f to the session unless the connection has ended.
func (s *serverConn) frame(f *wire.Frame) {
	s.frameMu.Lock()
	if !s.gone {
		s.sess.Frame(f)
	}
	s.frameMu.Unlock()
}

// disconnect ends the session once the connection is over.
func (s *serverConn) disconnect() {
	s.frameMu.Lock()
	s.gone = true
	s.frameMu.Unlock()
	s.sess.Disconnect(connErr(s.conn))
}

// protocolError drops a connection that sent bytes that are not frames.
func (s *serverConn) protocolError(err error) {
	s.conn.CloseWithError(codeProtocol, err.Error())
}

// refuse resets a call stream that arrived after the go-away.
func refuse(str *quicgo.Stream) {
	str.CancelRead(streamGoingAway)
	str.CancelWrite(streamGoingAway)
}

// Close implements rpcbench.ServerConn: signal go-away, then close the QUIC
// connection when the client hangs up or after closeLinger.
func (s *serverConn) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.goAway()
		go func() {
			t := time.NewTimer(closeLinger)
			defer t.Stop()
			select {
			case <-s.conn.Context().Done():
			case <-t.C:
			}
			s.conn.CloseWithError(codeGoingAway, "server closed the connection")
		}()
	})
	return nil
}

// RemoteAddr implements rpcbench.ServerConn.
func (s *serverConn) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }
