package runner

import (
	"fmt"
	"strings"
	"time"

	"rpcbench/harness/results"
	"rpcbench/internal/rabbitmq"
	"rpcbench/services/admin"
)

// brokerStartup is the dry-run estimate of starting the run's RabbitMQ
// node (about 6 s on an idle 2-core machine, more under load).
const brokerStartup = 10 * time.Second

// needsRabbit reports whether cells will run over amqp with no broker of
// the user's: the runner then starts one RabbitMQ node for the run.
func needsRabbit(cells []*results.Cell, o Options) bool {
	if o.Server != "" || strings.HasPrefix(o.Broker, "amqp://") {
		return false
	}
	for _, c := range cells {
		if c.Status != results.StatusSkipped && c.Params.Transport.Name == "amqp" {
			return true
		}
	}
	return false
}

// startBroker starts the run's RabbitMQ node, pinned beside the server
// processes, if a cell needs it. A node that does not start fails the amqp
// cells, not the run.
func (r *runner) startBroker() (stop func()) {
	if !needsRabbit(r.run.Cells, r.opts) {
		return func() {}
	}
	n, err := rabbitmq.Start("")
	if err != nil {
		r.rabbitErr = fmt.Errorf("starting RabbitMQ for the amqp cells: %w", err)
		return func() {}
	}
	if err := n.Pin(r.serverCPUs); err != nil {
		n.Stop()
		r.rabbitErr = err
		return func() {}
	}
	r.rabbit = n
	r.run.Manifest.Notes = append(r.run.Manifest.Notes, "amqp cells: one RabbitMQ node for the run, started by the runner ("+
		n.URL()+", default settings, no plugins), pinned to the server's CPUs; its CPU time is counted in the server's, since the broker is part of what a brokered call costs")
	return func() { n.Stop() }
}

// brokerListenAddr is where a server of the brokered transport name
// listens: the user's broker (--broker), the run's RabbitMQ node, or,
// for nats without either, a NATS server the server process embeds.
func (r *runner) brokerListenAddr(name string) (string, error) {
	if strings.HasPrefix(r.opts.Broker, name+"://") {
		return r.opts.Broker, nil
	}
	switch name {
	case "amqp":
		if r.rabbit == nil {
			return "", r.rabbitErr
		}
		return r.rabbit.URL() + "rpcbench", nil
	}
	return "127.0.0.1:0", nil
}

// withBroker counts the run's RabbitMQ node's CPU time in the server's
// snapshots.
type withBroker struct {
	server
	node *rabbitmq.Node
}

func (s withBroker) Stats() (*admin.Stats, error) {
	st, err := s.server.Stats()
	if err != nil || st == nil {
		return st, err
	}
	user, sys, err := s.node.CPUTime()
	if err != nil {
		return nil, err
	}
	st.CPUUserNs += int64(user)
	st.CPUSysNs += int64(sys)
	return st, nil
}
