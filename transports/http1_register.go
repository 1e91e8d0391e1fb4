package transports

import (
	"fmt"

	"rpcbench"
	"rpcbench/transports/http1"
	"rpcbench/transports/tlsconf"
)

func init() {
	Register("http1", func(o Options) (rpcbench.Transport, error) {
		if o.Engine != "" && o.Engine != "fasthttp" {
			return nil, fmt.Errorf("http1: unknown engine %q (valid: fasthttp)", o.Engine)
		}
		if o.Mode != "" {
			return nil, fmt.Errorf("http1: the transport has no modes (got %q)", o.Mode)
		}
		opts := http1.Options{MaxPayload: o.MaxPayload}
		if o.TLS {
			cfg, err := tlsconf.Load(o.TLSConf, "http/1.1")
			if err != nil {
				return nil, err
			}
			opts.TLS = cfg
		}
		return http1.New(opts)
	})
}
