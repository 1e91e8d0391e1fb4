package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"rpcbench"
	"rpcbench/faults"
	"rpcbench/harness/spec"
	"rpcbench/services"
	"rpcbench/services/admin"
)

func serveCmd(args []string) error {
	fs := newFlagSet("serve", "[flags]")
	var tf transportFlags
	tf.register(fs, true, tlsServer)
	tf.registerLimits(fs)
	addrs := fs.String("addr", "127.0.0.1:7000", "address to listen on (comma-separated, one per transport; port 0 picks a free port)")
	grace := fs.Duration("grace", 10*time.Second, "how long shutdown waits for in-flight calls")
	certOut := fs.String("write-cert", "", "write the TLS certificate the server presents to `FILE`, for clients to trust with --cacert")
	adminOn := fs.Bool("admin", false, "serve the admin methods (Admin.Stats, Admin.GC, Admin.Host) that 'rpcbench bench --server' calls; they answer only requests carrying the admin token")
	adminToken := fs.String("admin-token", "", "the admin token (default: $"+admin.TokenEnv+", else a random one printed at start)")
	var af announceFlags
	af.register(fs)
	var ef echoFlags
	ef.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := ef.check("serve"); err != nil {
		return err
	}
	if *adminToken != "" && !*adminOn {
		return usageError("serve: --admin-token needs --admin")
	}
	names, as := strings.Split(tf.name, ","), strings.Split(*addrs, ",")
	if len(names) != len(as) {
		return usageError("serve: %d transports but %d addresses: give one --addr per transport", len(names), len(as))
	}
	if *certOut != "" {
		if err := writeCert(*certOut, &tf); err != nil {
			return usageError("serve: %v", err)
		}
	}
	faulty, err := faults.FromEnv()
	if err != nil {
		return usageError("%v", err) // a bad setting, refused before anything runs
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	faulty.Attach(srv) // RPCBENCH_INJECT: regressions on purpose, for gate tests
	if err := services.Register(srv); err != nil {
		return err
	}
	if err := ef.apply(srv); err != nil {
		return usageError("serve: %v", err)
	}
	// Admin.Host reports the listeners, so that 'bench --server' on another
	// host can match its cells' transports against them.
	serving := &admin.Serving{}
	if *adminOn {
		if err := registerAdmin(srv, serving, *adminToken); err != nil {
			return err
		}
	}
	errc := make(chan error, len(names))
	var listening []listenerAddr
	for i, name := range names {
		t, err := tf.build(name)
		if err != nil {
			return err
		}
		l, err := t.Listen(as[i])
		if err != nil {
			srv.Close()
			return fmt.Errorf("serve: listen %s on %s: %w", name, as[i], err)
		}
		// The harness reads this line to learn the address.
		fmt.Printf("rpcbench: serving %s on %s\n", name, l.Addr())
		serving.Add(spec.Transport{Name: name, Engine: tf.o.Engine, Mode: tf.o.Mode, TLS: tf.o.TLS}.String(), l.Addr().String())
		go func() { errc <- srv.Serve(l) }()
		listening = append(listening, listenerAddr{name, l.Addr().String()})
	}
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	unannounce, err := af.announce(actx, srv, listening)
	acancel()
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		fmt.Fprintf(os.Stderr, "rpcbench: %v: shutting down\n", s)
	case err := <-errc:
		unannounce(context.Background())
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	// Consumers stop sending here before the server drains.
	if err := unannounce(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "rpcbench: deregistering: %v\n", err)
	}
	return srv.Shutdown(ctx)
}

// registerAdmin adds the admin methods with token, else the environment's,
// else a new one that it prints for the bench side to use.
func registerAdmin(srv *rpcbench.Server, serving *admin.Serving, token string) error {
	token = cmp.Or(token, os.Getenv(admin.TokenEnv))
	if token == "" {
		var err error
		if token, err = admin.NewToken(); err != nil {
			return err
		}
		fmt.Printf("rpcbench: admin token %s (give it to 'rpcbench bench --server' as --admin-token or $%s)\n", token, admin.TokenEnv)
	}
	return admin.Register(srv, serving, token)
}
