package tcp

import (
	"rpcbench"
	"rpcbench/transports"
)

// Importing the package registers "tcp" and "unix" with package transports.
func init() {
	factory := func(o transports.Options) (rpcbench.Transport, error) {
		cfg, err := o.TLSConfig("rpcbench-tcp")
		if err != nil {
			return nil, err
		}
		return New(Options{Engine: o.Engine, MaxPayload: o.MaxPayload, TLS: cfg, Limits: o.Limits})
	}
	transports.Register("tcp", factory)
	// "unix" is the same transport; addresses are socket paths.
	transports.Register("unix", func(o transports.Options) (rpcbench.Transport, error) {
		t, err := factory(o)
		if err != nil {
			return nil, err
		}
		return unixTransport{t}, nil
	})
}
