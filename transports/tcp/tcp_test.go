package tcp_test

import (
	"net"
	"path/filepath"
	"testing"

	"rpcbench"
	"rpcbench/transports/tcp"
	"rpcbench/transports/tlsconf"
	"rpcbench/transports/transporttest"
)

func suite(engine string, unix bool) transporttest.Config {
	cfg := transporttest.Config{
		New: func(t *testing.T) rpcbench.Transport {
			tr, err := tcp.New(tcp.Options{Engine: engine})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		RawDial: func(addr string) (net.Conn, error) {
			network, address := tcp.SplitAddr(addr)
			return net.Dial(network, address)
		},
		DropsConn: true,
	}
	if unix {
		cfg.ListenAddr = func(t *testing.T) string { return "unix://" + filepath.Join(t.TempDir(), "rpc.sock") }
		cfg.DialAddr = func(l rpcbench.Listener) string { return "unix://" + l.Addr().String() }
	}
	return cfg
}

func TestConformanceNet(t *testing.T)      { transporttest.Run(t, suite("net", false)) }
func TestConformanceGnet(t *testing.T)     { transporttest.Run(t, suite("gnet", false)) }
func TestConformanceUnix(t *testing.T)     { transporttest.Run(t, suite("net", true)) }
func TestConformanceGnetUnix(t *testing.T) { transporttest.Run(t, suite("gnet", true)) }

func TestUnknownEngine(t *testing.T) {
	_, err := tcp.New(tcp.Options{Engine: "epoll"})
	if err == nil || err.Error() != `tcp: unknown engine "epoll" (valid: net, gnet)` {
		t.Fatalf("got %v", err)
	}
}

func TestConformanceTLS(t *testing.T) {
	cfg := suite("net", false)
	cfg.New = func(t *testing.T) rpcbench.Transport {
		tc, err := tlsconf.Load(tlsconf.Settings{}, "rpcbench")
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tcp.New(tcp.Options{TLS: tc})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	transporttest.Run(t, cfg)
}
