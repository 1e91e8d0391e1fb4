package quic_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"rpcbench"
	"rpcbench/transports/quic"
	"rpcbench/transports/tlsconf"
	"rpcbench/transports/transporttest"
)

func suite(opts quic.Options) transporttest.Config {
	alpn := quic.ALPNStream
	if opts.Mode == "mux" {
		alpn = quic.ALPNMux
	}
	return transporttest.Config{
		New: func(t *testing.T) rpcbench.Transport {
			tr, err := quic.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		RawDial:   func(addr string) (net.Conn, error) { return rawDial(addr, alpn) },
		DropsConn: true,
	}
}

func TestConformanceStream(t *testing.T) { transporttest.Run(t, suite(quic.Options{Mode: "stream"})) }
func TestConformanceMux(t *testing.T)    { transporttest.Run(t, suite(quic.Options{Mode: "mux"})) }
func TestConformanceMux4(t *testing.T) {
	transporttest.Run(t, suite(quic.Options{Mode: "mux", MuxStreams: 4}))
}

func TestUnknownMode(t *testing.T) {
	_, err := quic.New(quic.Options{Mode: "datagram"})
	if err == nil || err.Error() != `quic: unknown mode "datagram" (valid: stream, mux)` {
		t.Fatalf("got %v", err)
	}
}

// rawStream is a raw QUIC stream on a fresh connection of its own, as a
// net.Conn for the garbage tests. A peer's reset or connection close reads
// as "connection reset", QUIC's counterpart of a TCP RST.
type rawStream struct {
	*quicgo.Stream
	conn *quicgo.Conn
	tr   *quicgo.Transport
	udp  *net.UDPConn
}

func rawDial(addr, alpn string) (net.Conn, error) {
	cfg, err := tlsconf.Load(tlsconf.Settings{}, alpn)
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, err
	}
	tr := &quicgo.Transport{Conn: udp}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := tr.Dial(ctx, raddr, cfg, nil)
	if err != nil {
		tr.Close()
		udp.Close()
		return nil, err
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(0, "")
		tr.Close()
		udp.Close()
		return nil, err
	}
	return &rawStream{Stream: str, conn: conn, tr: tr, udp: udp}, nil
}

func (r *rawStream) Read(p []byte) (int, error) {
	n, err := r.Stream.Read(p)
	var serr *quicgo.StreamError
	var aerr *quicgo.ApplicationError
	if errors.As(err, &serr) && serr.Remote || errors.As(err, &aerr) && aerr.Remote {
		err = fmt.Errorf("connection reset by peer (%w)", err)
	}
	return n, err
}

func (r *rawStream) CloseWrite() error    { return r.Stream.Close() }
func (r *rawStream) LocalAddr() net.Addr  { return r.conn.LocalAddr() }
func (r *rawStream) RemoteAddr() net.Addr { return r.conn.RemoteAddr() }

func (r *rawStream) Close() error {
	r.conn.CloseWithError(0, "")
	r.tr.Close()
	return r.udp.Close()
}
