package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"rpcbench"
	"rpcbench/transports"
	"rpcbench/transports/admit"
	_ "rpcbench/transports/all" // transports are chosen by name here
	"rpcbench/transports/tlsconf"
)

// transportFlags are the flags that choose and tune a transport, shared by
// serve, call and bench.
type transportFlags struct {
	name string
	o    transports.Options
}

// side says which end of a connection a command is: the TLS flags differ.
type side int

const (
	// tlsServer: --cert/--key are the server's certificate; --client-ca.
	tlsServer side = iota
	// tlsClient: --cert/--key are the client's certificate (as with curl);
	// --cacert, --skip-verify.
	tlsClient
	// tlsClientCert: only --cert/--key, the client's certificate, for a
	// command whose other flags register --cacert and --skip-verify
	// (bench, with its external targets).
	tlsClientCert
)

func (tf *transportFlags) register(fs *flag.FlagSet, multi bool, s side) {
	help := "transport: " + strings.Join(transports.Names(), ", ")
	if multi {
		help += " (comma-separated to listen on several, with as many --addr)"
	}
	fs.StringVar(&tf.name, "transport", "tcp", help)
	fs.StringVar(&tf.o.Engine, "engine", "", "server engine where a transport has several (tcp: net, gnet; udp: net, gnet)")
	fs.StringVar(&tf.o.Mode, "mode", "", "transport variant (quic: stream, mux; amqp: noconfirm, confirm)")
	fs.StringVar(&tf.o.Broker, "broker", "", "message broker of the brokered transports: nats://HOST:PORT (default: a NATS server embedded in the server), amqp://USER:PASSWORD@HOST:PORT (amqp needs one; bench starts a RabbitMQ node for amqp cells when none is given)")
	fs.BoolVar(&tf.o.TLS, "tls", false, "use TLS where optional (tcp with the net engine, http1; quic always has it; udp and the gnet engine have none)")
	c := &tf.o.TLSConf
	if s == tlsServer {
		fs.StringVar(&c.Cert, "cert", "", "TLS certificate file (default: a self-signed one, made at start-up)")
		fs.StringVar(&c.Key, "key", "", "TLS key file")
		fs.StringVar(&c.ClientCA, "client-ca", "", "mutual TLS: refuse clients without a certificate signed by one in this PEM `FILE`")
		return
	}
	fs.StringVar(&c.ClientCert, "cert", "", "mutual TLS: the client certificate (PEM) to present")
	fs.StringVar(&c.ClientKey, "key", "", "mutual TLS: the key of --cert")
	if s == tlsClientCert {
		return
	}
	fs.StringVar(&c.CA, "cacert", "", "verify the server's TLS certificate against the PEM certificates in `FILE` (e.g. one 'serve --write-cert' wrote); by default a client trusts only a server started by this process")
	fs.BoolVar(&c.Insecure, "skip-verify", false, "accept any TLS certificate from the server, unverified")
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

// writeCert writes the certificate the server presents to file, for
// clients to trust with --cacert.
func writeCert(file string, tf *transportFlags) error {
	pem, err := tlsconf.CertPEM(tf.o.TLSConf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, pem, 0o644); err != nil {
		return fmt.Errorf("--write-cert: %w", err)
	}
	return nil
}
