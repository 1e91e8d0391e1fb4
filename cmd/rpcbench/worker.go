package main

import (
	"cmp"
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"rpcbench/harness/fleet"
	"rpcbench/harness/runner"
	"rpcbench/services/admin"
	"rpcbench/transports/tlsconf"
)

// workerCmd runs `rpcbench worker`: one load process of a fleet, which
// generates its share of each cell a coordinator ('bench --workers')
// publishes through etcd.
func workerCmd(args []string) error {
	fs := newFlagSet("worker", "--coordinator etcd://HOST:2379/PREFIX [--name N]")
	coordinator := fs.String("coordinator", "", "join the fleet at `etcd://HOST:PORT[,HOST:PORT...]/PREFIX` (the URL given to 'bench --workers')")
	name := fs.String("name", "", "this worker's `name` in the fleet and the run (default: the host name); unique among the workers")
	adminToken := fs.String("admin-token", "", "the server's admin token ('rpcbench serve --admin'; default $"+admin.TokenEnv+")")
	cacert := fs.String("cacert", "", "over TLS: trust this CA certificate (PEM) for the server")
	skipVerify := fs.Bool("skip-verify", false, "over TLS: do not verify the server's certificate")
	ttl := fs.Duration("ttl", fleet.DefaultTTL, "lease TTL: how soon the coordinator notices this worker is gone (etcd counts whole seconds)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("worker: unexpected arguments %q", fs.Args())
	}
	if *coordinator == "" {
		return usageError("worker: want --coordinator etcd://HOST:2379/PREFIX")
	}
	e, err := fleet.ParseURL(*coordinator)
	if err != nil {
		return usageError("worker: --coordinator: %v", err)
	}
	if *ttl < time.Second {
		return usageError("worker: --ttl %v: want at least 1s", *ttl)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return fleet.Work(ctx, e, fleet.WorkerConfig{Name: *name, TTL: *ttl, Log: os.Stderr,
		Runner: runner.Options{AdminToken: cmp.Or(*adminToken, os.Getenv(admin.TokenEnv)), ServerTLS: tlsconf.Settings{CA: *cacert, Insecure: *skipVerify}}})
}
