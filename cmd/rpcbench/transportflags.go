package main

import (
	"flag"
	"fmt"
	"strings"

	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/admit"
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

// registerLimits adds the flags of what a server admits (serve only).
func (tf *transportFlags) registerLimits(fs *flag.FlagSet) {
	l := &tf.o.Limits
	fs.IntVar(&l.MaxConns, "max-conns", 0, fmt.Sprintf("open connections per listener, tcp/unix/http1/quic (0: %d; -1: no cap)", admit.DefaultMaxConns))
	fs.IntVar(&l.MaxConnsPerAddr, "max-conns-per-addr", 0, fmt.Sprintf("open connections from one IP address per listener (0: %d; -1: no cap)", admit.DefaultMaxConnsPerAddr))
	fs.DurationVar(&l.FrameTimeout, "frame-timeout", 0, fmt.Sprintf("time a started request may take to arrive, tcp/unix/quic/http1 (0: %v; -1ns: none)", admit.DefaultFrameTimeout))
	fs.IntVar(&l.MaxInProgress, "max-in-progress", 0, fmt.Sprintf("bytes of requests being received per listener, tcp/unix/quic/http1 (0: %d MiB; -1: no cap)", admit.DefaultMaxInProgress>>20))
}

func (tf *transportFlags) build(name string) (rpcbench.Transport, error) {
	t, err := transports.New(name, tf.o)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return t, nil
}
