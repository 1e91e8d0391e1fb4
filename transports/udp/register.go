package udp

import (
	"errors"

	"rpcbench"
	"rpcbench/transports"
)

// Importing the package registers "udp" with package transports.
func init() {
	transports.Register("udp", func(o transports.Options) (rpcbench.Transport, error) {
		if o.TLS {
			return nil, errors.New("udp: no TLS over plain datagrams (use quic)")
		}
		return New(Options{Engine: o.Engine, MaxMessage: o.MaxPayload})
	})
}
