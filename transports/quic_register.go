package transports

import (
	"rpcbench"
	"rpcbench/transports/quic"
	"rpcbench/transports/tlsconf"
)

func init() {
	Register("quic", func(o Options) (rpcbench.Transport, error) {
		// QUIC always runs TLS; the quic package sets ALPN per mode.
		cfg, err := tlsconf.Load(o.TLSConf, quic.ALPNStream, quic.ALPNMux)
		if err != nil {
			return nil, err
		}
		return quic.New(quic.Options{Mode: o.Mode, TLS: cfg, MaxPayload: o.MaxPayload})
	})
}
