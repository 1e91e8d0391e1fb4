package http1

import (
	"fmt"

	"rpcbench"
	"rpcbench/transports"
)

// Importing the package registers "http1" with package transports.
func init() {
	transports.Register("http1", func(o transports.Options) (rpcbench.Transport, error) {
		if o.Engine != "" && o.Engine != "fasthttp" {
			return nil, fmt.Errorf("http1: unknown engine %q (valid: fasthttp)", o.Engine)
		}
		if o.Mode != "" {
			return nil, fmt.Errorf("http1: the transport has no modes (got %q)", o.Mode)
		}
		cfg, err := o.TLSConfig("http/1.1")
		if err != nil {
			return nil, err
		}
		return New(Options{MaxPayload: o.MaxPayload, TLS: cfg, Limits: o.Limits})
	})
}
