package amqp_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	amqpgo "github.com/rabbitmq/amqp091-go"

	"rpcbench"
	"rpcbench/internal/rabbitmq"
	"rpcbench/internal/testenv"
	"rpcbench/transports/amqp"
	"rpcbench/transports/brokered"
	"rpcbench/transports/brokered/brokertest"
	"rpcbench/transports/transporttest"
)

// node is the package's RabbitMQ node, started once: a start takes
// seconds.
var node *rabbitmq.Node

func TestMain(m *testing.M) {
	var err error
	if rabbitmq.Available() == nil {
		if node, err = rabbitmq.Start(""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if node != nil {
		node.Stop()
	}
	os.Exit(code)
}

func needNode(t *testing.T) {
	if node == nil {
		testenv.Missing(t, "rabbitmq", rabbitmq.Hint)
	}
}

// queueFor names a queue after the test, so that tests do not share one.
func queueFor(t *testing.T) string {
	return node.URL() + strings.NewReplacer("/", ".", "#", "-").Replace(t.Name())
}

func newTransport(t *testing.T, mode string) rpcbench.Transport {
	tr, err := amqp.New(amqp.Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func suite(mode string) transporttest.Config {
	return transporttest.Config{
		New:        func(t *testing.T) rpcbench.Transport { return newTransport(t, mode) },
		ListenAddr: queueFor,
		SkipRaw:    "a broker carries messages, not connections: see TestNotAFrame",
	}
}

func TestConformance(t *testing.T) {
	needNode(t)
	transporttest.Run(t, suite(""))
}

func TestConformanceConfirm(t *testing.T) {
	needNode(t)
	transporttest.Run(t, suite("confirm"))
}

func TestUnknownMode(t *testing.T) {
	_, err := amqp.New(amqp.Options{Mode: "sync"})
	if err == nil || err.Error() != `amqp: unknown mode "sync" (valid: noconfirm, confirm)` {
		t.Fatalf("got %v", err)
	}
}

func TestListenNeedsBroker(t *testing.T) {
	_, err := newTransport(t, "").Listen("127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "--broker") {
		t.Fatalf("got %v, want an error asking for a broker", err)
	}
}

func TestNotAFrame(t *testing.T) {
	needNode(t)
	brokertest.RunNotAFrame(t, newTransport(t, ""), queueFor(t), func(t *testing.T, addr string, body []byte) {
		a, err := brokered.ParseAddr(addr, "amqp")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := amqpgo.Dial(a.Broker())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Publish("", a.Service, false, false, amqpgo.Publishing{ReplyTo: "nowhere", Body: body}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBrokerRestart kills the node and starts it again: it runs last,
// on the package's node.
func TestBrokerRestart(t *testing.T) {
	needNode(t)
	brokertest.RunRestart(t, newTransport(t, ""), brokertest.Broker{
		Addr: queueFor(t),
		Stop: func(*testing.T) { node.Kill() },
		Start: func(t *testing.T) {
			if err := node.Relaunch(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestConsumers(t *testing.T) {
	needNode(t)
	brokertest.RunConsumers(t, newTransport(t, ""), queueFor(t))
}
