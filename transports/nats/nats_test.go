package nats_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"rpcbench"
	"rpcbench/transports/brokered"
	"rpcbench/transports/brokered/brokertest"
	"rpcbench/transports/nats"
	"rpcbench/transports/transporttest"
	"rpcbench/wire"
)

// natsMaxPayload is the largest frame payload under the embedded server's
// default 1 MiB message limit.
const natsMaxPayload = 1<<20 - wire.HeaderLen

func suite() transporttest.Config {
	return transporttest.Config{
		New: func(t *testing.T) rpcbench.Transport {
			tr, err := nats.New(nats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return tr
		},
		MaxPayload: natsMaxPayload,
		SkipRaw:    "a broker carries messages, not connections: see TestNotAFrame",
	}
}

func TestConformance(t *testing.T) { transporttest.Run(t, suite()) }

// TestBrokerRestart runs against a NATS server of the test's own, outside
// the transport, that it stops and starts again on the same port.
func TestBrokerRestart(t *testing.T) {
	port := freePort(t)
	var srv *natsserver.Server
	start := func(t *testing.T) {
		var err error
		srv, err = natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("NATS server not ready")
		}
	}
	stop := func(*testing.T) { srv.Shutdown(); srv.WaitForShutdown() }
	start(t)
	defer func() { stop(t) }()
	tr, err := nats.New(nats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	brokertest.RunRestart(t, tr, brokertest.Broker{Addr: fmt.Sprintf("nats://127.0.0.1:%d/restart", port), Stop: stop, Start: start})
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestNotAFrame(t *testing.T) {
	tr, err := nats.New(nats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	brokertest.RunNotAFrame(t, tr, "127.0.0.1:0", func(t *testing.T, addr string, body []byte) {
		a, err := brokered.ParseAddr(addr, "nats")
		if err != nil {
			t.Fatal(err)
		}
		nc, err := natsgo.Connect(a.Broker())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if err := nc.PublishRequest(a.Service, "_INBOX.garbage.1", body); err != nil {
			t.Fatal(err)
		}
		nc.Flush()
	})
}

func TestConsumers(t *testing.T) {
	tr, err := nats.New(nats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	brokertest.RunConsumers(t, tr, "127.0.0.1:0")
}
