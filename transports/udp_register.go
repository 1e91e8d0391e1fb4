package transports

import (
	"errors"

	"rpcbench"
	"rpcbench/transports/udp"
)

func init() {
	Register("udp", func(o Options) (rpcbench.Transport, error) {
		if o.TLS {
			return nil, errors.New("udp: no TLS over plain datagrams (use quic)")
		}
		return udp.New(udp.Options{Engine: o.Engine, MaxMessage: o.MaxPayload})
	})
}
