package tcp

import (
	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/tlsconf"
)

// Importing the package registers "tcp" and "unix" with package transports.
func init() {
	factory := func(o transports.Options) (rpcbench.Transport, error) {
		opts := Options{Engine: o.Engine, MaxPayload: o.MaxPayload}
		if o.TLS {
			cfg, err := tlsconf.Load(o.CertFile, o.KeyFile, "rpcbench-tcp")
			if err != nil {
				return nil, err
			}
			opts.TLS = cfg
		}
		return New(opts)
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
