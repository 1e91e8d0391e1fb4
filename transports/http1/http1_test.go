package http1_test

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"rpcbench"
	"rpcbench/transports/http1"
	"rpcbench/transports/tlsconf"
	"rpcbench/transports/transporttest"
)

func quiet(string, ...any) {}

// startFasthttpClock starts fasthttp's process-wide Date-header refresher
// (one goroutine, started on first use and never stopped) before the suite
// records the goroutines that exist, so that goleak does not count it as a
// leak of the transport.
func startFasthttpClock() {
	var r fasthttp.Response
	r.Header.AppendBytes(nil)
}

func suite(cfg *tls.Config) transporttest.Config {
	startFasthttpClock()
	return transporttest.Config{
		New: func(t *testing.T) rpcbench.Transport {
			tr, err := http1.New(http1.Options{TLS: cfg, Logf: quiet})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		RawDial: func(addr string) (net.Conn, error) { return net.Dial("tcp", addr) },
		// fasthttp answers bad bytes with a 400 (or the TLS handshake fails)
		// and then closes the connection.
		DropsConn: true,
	}
}

func TestConformance(t *testing.T) { transporttest.Run(t, suite(nil)) }

func TestConformanceTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: the TLS run repeats the whole suite")
	}
	cfg, err := tlsconf.Load(tlsconf.Settings{}, "http/1.1")
	if err != nil {
		t.Fatal(err)
	}
	transporttest.Run(t, suite(cfg))
}
