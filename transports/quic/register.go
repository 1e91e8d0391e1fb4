package quic

import (
	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/tlsconf"
)

// Importing the package registers "quic" with package transports.
func init() {
	transports.Register("quic", func(o transports.Options) (rpcbench.Transport, error) {
		// QUIC always runs TLS; the quic package sets ALPN per mode.
		cfg, err := tlsconf.Load(o.TLSConf, ALPNStream, ALPNMux)
		if err != nil {
			return nil, err
		}
		return New(Options{Mode: o.Mode, TLS: cfg, MaxPayload: o.MaxPayload, Limits: o.Limits})
	})
}
