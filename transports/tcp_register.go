package transports

import (
	"rpcbench"
	"rpcbench/transports/tcp"
	"rpcbench/transports/tlsconf"
)

func init() {
	factory := func(o Options) (rpcbench.Transport, error) {
		opts := tcp.Options{Engine: o.Engine, MaxPayload: o.MaxPayload}
		if o.TLS {
			cfg, err := tlsconf.Load(o.TLSConf, "rpcbench-tcp")
			if err != nil {
				return nil, err
			}
			opts.TLS = cfg
		}
		return tcp.New(opts)
	}
	Register("tcp", factory)
	// "unix" is the same transport; addresses are socket paths.
	Register("unix", func(o Options) (rpcbench.Transport, error) {
		t, err := factory(o)
		if err != nil {
			return nil, err
		}
		return unixTransport{t}, nil
	})
}
