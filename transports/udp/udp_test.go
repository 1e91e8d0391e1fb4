package udp_test

import (
	"net"
	"testing"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
)

func suite(engine string) transporttest.Config {
	return transporttest.Config{
		New: func(t *testing.T) rpcbench.Transport {
			tr, err := udp.New(udp.Options{Engine: engine})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		RawDial:   func(addr string) (net.Conn, error) { return net.Dial("udp", addr) },
		DropsConn: false,
	}
}

func TestConformanceNet(t *testing.T)  { transporttest.Run(t, suite("net")) }
func TestConformanceGnet(t *testing.T) { transporttest.Run(t, suite("gnet")) }

func TestUnknownEngine(t *testing.T) {
	_, err := udp.New(udp.Options{Engine: "epoll"})
	if err == nil || err.Error() != `udp: unknown engine "epoll" (valid: net, gnet)` {
		t.Fatalf("got %v", err)
	}
}
