package amqp

import (
	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/brokered"
)

// Importing the package registers "amqp" with package transports.
func init() {
	transports.RegisterBrokered("amqp", func(o transports.Options) (rpcbench.Transport, error) {
		if err := brokered.RefuseOptions("amqp", o.Engine, o.TLS); err != nil {
			return nil, err
		}
		return New(Options{Broker: o.Broker, Mode: o.Mode, Settings: brokered.Settings{MaxPayload: o.MaxPayload}})
	})
}
