package rabbitmq_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"rpcbench/internal/rabbitmq"
	"rpcbench/internal/testenv"
)

func TestNode(t *testing.T) {
	if err := rabbitmq.Available(); err != nil {
		testenv.Missing(t, "rabbitmq", rabbitmq.Hint)
	}
	start := time.Now()
	n, err := rabbitmq.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	t.Logf("started in %v at %s", time.Since(start).Round(time.Millisecond), n.URL())
	c, err := amqp.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	user, sys, err := n.CPUTime()
	if err != nil || user <= 0 {
		t.Fatalf("CPUTime = %v, %v, %v; want the node's start-up CPU", user, sys, err)
	}
	t.Logf("CPU time after start: user %v, sys %v", user, sys)
	if err := n.Pin([]int{0}); err != nil {
		t.Fatal(err)
	}
}
