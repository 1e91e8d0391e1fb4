package peers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"rpcbench/target"
	"rpcbench/transports/tlsconf"
)

// raw-quic: one QUIC connection per cell connection, one bidirectional
// stream per call: the client writes the payload and closes its side, the
// server reads to EOF, writes it back and closes, the client reads to EOF.
//
// raw-quic-mux: one QUIC connection per cell connection carrying one
// bidirectional stream, pipelined exactly as raw-tcp-pipelined pipelines
// its TCP connection (pipeConn, rawEcho): the design of rpcbench's
// quic+mux.
const (
	quicALPN       = "rpcbench-raw"
	quicMaxStreams = 1024
	quicIdle       = 30 * time.Second
)

func init() {
	add("raw-quic", target.Peer{
		Network:   "udp",
		Serve:     func(addr string) (string, func() error, error) { return serveQUIC(addr, quicEcho) },
		NewTarget: func(cfg target.PeerConfig) (target.Target, error) { return newRawQUICTarget(cfg, false) },
		Settings: func() map[string]string {
			return quicSettings("multiplexing", "one bidirectional stream per call", "framing", "stream EOF delimits request and reply")
		},
	})
	add("raw-quic-mux", target.Peer{
		Network:   "udp",
		Serve:     func(addr string) (string, func() error, error) { return serveQUIC(addr, quicMuxEcho) },
		NewTarget: func(cfg target.PeerConfig) (target.Target, error) { return newRawQUICTarget(cfg, true) },
		Settings: func() map[string]string {
			return quicSettings("multiplexing", "one bidirectional stream per connection, "+pipelinedDesign,
				"framing", "4-byte length + 8-byte id", "stream_buffers", pipelinedBuffers)
		},
	})
}

func quicSettings(kv ...string) map[string]string {
	return rawSettings(append([]string{"connections", "the cell's connections dimension, one QUIC connection each (default 1 shared)",
		"max_incoming_streams", fmt.Sprint(quicMaxStreams), "tls", "TLS 1.3, self-signed certificate, ALPN " + quicALPN,
		"buffers", "quic-go defaults (OS socket buffers as the kernel allows)", "quic-go", moduleVersion("github.com/quic-go/quic-go")}, kv...)...)
}

func quicTLS() (*tls.Config, error) { return tlsconf.Load(tlsconf.Settings{}, quicALPN) }

// serveQUIC accepts QUIC connections on addr and runs echo on every stream
// of each, in a goroutine of its own.
func serveQUIC(addr string, echo func(*quic.Stream)) (string, func() error, error) {
	tc, err := quicTLS()
	if err != nil {
		return "", nil, err
	}
	udp, err := net.ListenUDP("udp", mustUDPAddr(addr))
	if err != nil {
		return "", nil, err
	}
	tr := &quic.Transport{Conn: udp}
	ln, err := tr.Listen(tc, &quic.Config{MaxIncomingStreams: quicMaxStreams, MaxIncomingUniStreams: -1, MaxIdleTimeout: quicIdle})
	if err != nil {
		udp.Close()
		return "", nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*quic.Conn
	wg.Go(func() {
		for {
			conn, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() {
				for {
					str, err := conn.AcceptStream(context.Background())
					if err != nil {
						return
					}
					wg.Go(func() { echo(str) })
				}
			})
		}
	})
	return udp.LocalAddr().String(), func() error {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.CloseWithError(0, "server stopping")
		}
		mu.Unlock()
		err := tr.Close()
		wg.Wait()
		udp.Close()
		return err
	}, nil
}

func quicEcho(str *quic.Stream) {
	b, err := io.ReadAll(io.LimitReader(str, rawMaxFrame))
	if err != nil {
		str.CancelWrite(1)
		return
	}
	str.Write(b)
	str.Close()
}

// quicMuxEcho echoes the frames of one long-lived stream.
func quicMuxEcho(str *quic.Stream) {
	rawEcho(str)
	str.CancelRead(0)
	str.Close()
}

type rawQUICTarget struct {
	addr    string
	payload []byte
	tls     *tls.Config
	mux     bool
}

func newRawQUICTarget(cfg target.PeerConfig, mux bool) (target.Target, error) {
	p, err := rawPayload(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	tc, err := quicTLS()
	if err != nil {
		return nil, err
	}
	return &rawQUICTarget{addr: cfg.Addr, payload: p, tls: tc, mux: mux}, nil
}

func (t *rawQUICTarget) Dial(ctx context.Context) (target.Conn, error) {
	conn, err := quic.DialAddr(ctx, t.addr, t.tls, &quic.Config{MaxIncomingStreams: -1, MaxIncomingUniStreams: -1, MaxIdleTimeout: quicIdle, KeepAlivePeriod: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	if !t.mux {
		return &quicConn{t: t, conn: conn}, nil
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(0, "")
		return nil, err
	}
	return newPipeConn("raw-quic-mux", t.payload, quicStreamConn{str, conn}), nil
}

// quicStreamConn is the one stream of a raw-quic-mux connection; closing
// it closes the connection, which ends the stream's reader.
type quicStreamConn struct {
	*quic.Stream
	conn *quic.Conn
}

func (s quicStreamConn) Close() error { return s.conn.CloseWithError(0, "") }

func (t *rawQUICTarget) Verify(ctx context.Context, c target.Conn) error {
	if pc, ok := c.(*pipeConn); ok {
		return pc.verify(ctx)
	}
	qc, ok := c.(*quicConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	buf := make([]byte, len(t.payload)+1)
	n, err := qc.call(ctx, buf)
	if err != nil {
		return err
	}
	return checkEcho("raw-quic", t.payload, buf[:n])
}

type quicConn struct {
	t    *rawQUICTarget
	conn *quic.Conn
}

// call makes one stream-per-call echo, reading the reply into buf (one
// byte longer than the payload, so that a longer reply is noticed).
func (c *quicConn) call(ctx context.Context, buf []byte) (int, error) {
	str, err := c.conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := str.Write(c.t.payload); err != nil {
		str.CancelRead(1)
		return 0, err
	}
	str.Close()
	n := 0
	for {
		m, err := str.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if n == len(buf) {
			str.CancelRead(1)
			return n, fmt.Errorf("peers: raw-quic: reply longer than the %d-byte payload", len(c.t.payload))
		}
	}
	if n != len(c.t.payload) {
		return n, fmt.Errorf("peers: raw-quic: reply of %d bytes, want %d", n, len(c.t.payload))
	}
	return n, nil
}

func (c *quicConn) NewCaller() (target.Caller, error) {
	buf := make([]byte, len(c.t.payload)+1)
	return func(ctx context.Context) error {
		_, err := c.call(ctx, buf)
		return err
	}, nil
}

func (c *quicConn) Close() error { return c.conn.CloseWithError(0, "") }
