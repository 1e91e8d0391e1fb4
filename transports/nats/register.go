package nats

import (
	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/brokered"
)

// Importing the package registers "nats" with package transports.
func init() {
	transports.RegisterBrokered("nats", func(o transports.Options) (rpcbench.Transport, error) {
		return New(Options{Broker: o.Broker, Settings: brokered.Settings{MaxPayload: o.MaxPayload}})
	})
}
