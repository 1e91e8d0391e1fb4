package nats

import (
	"fmt"

	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/brokered"
)

// Importing the package registers "nats" with package transports.
func init() {
	transports.RegisterBrokered("nats", func(o transports.Options) (rpcbench.Transport, error) {
		if err := brokered.RefuseOptions("nats", o.Engine, o.TLS); err != nil {
			return nil, err
		}
		if o.Mode != "" {
			return nil, fmt.Errorf("nats: no modes (--mode is for quic and amqp)")
		}
		return New(Options{Broker: o.Broker, Settings: brokered.Settings{MaxPayload: o.MaxPayload}})
	})
}
