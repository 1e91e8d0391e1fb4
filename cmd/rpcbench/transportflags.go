package main

import (
	"flag"
	"strings"

	"rpcbench"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // transports are chosen by name here
)

// transportFlags are the flags that choose and tune a transport, shared by
// serve, call and bench.
type transportFlags struct {
	name string
	o    transports.Options
}

func (tf *transportFlags) register(fs *flag.FlagSet, multi bool) {
	help := "transport: " + strings.Join(transports.Names(), ", ")
	if multi {
		help += " (comma-separated to listen on several, with as many --addr)"
	}
	fs.StringVar(&tf.name, "transport", "tcp", help)
	fs.StringVar(&tf.o.Engine, "engine", "", "server engine where a transport has several (tcp: net, gnet; udp: net, gnet)")
	fs.StringVar(&tf.o.Mode, "mode", "", "transport variant (quic: stream, mux)")
	fs.BoolVar(&tf.o.TLS, "tls", false, "use TLS where optional (tcp, http1)")
	fs.StringVar(&tf.o.CertFile, "cert", "", "TLS certificate file (default: self-signed, loopback only)")
	fs.StringVar(&tf.o.KeyFile, "key", "", "TLS key file")
}

func (tf *transportFlags) build(name string) (rpcbench.Transport, error) {
	t, err := transports.New(name, tf.o)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return t, nil
}
