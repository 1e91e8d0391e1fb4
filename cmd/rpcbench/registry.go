package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"rpcbench"
	"rpcbench/discovery"
	_ "rpcbench/discovery/etcdreg" // etcd:// registries
	_ "rpcbench/discovery/memreg"  // mem://
	"rpcbench/discovery/regserver"
	"rpcbench/services/admin"
)

// registryCmd runs `rpcbench registry`: a standalone service registry
// served over rpcbench's own RPC, for several processes on one host; and
// `rpcbench registry list`, which prints what a registry holds.
func registryCmd(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return registryListCmd(args[1:])
	}
	fs := newFlagSet("registry", "[flags]   (serve a registry)\n       rpcbench registry list --registry URL   (print its services and instances)")
	var tf transportFlags
	tf.register(fs, false, tlsServer)
	addr := fs.String("addr", "127.0.0.1:7100", "address to listen on (port 0 picks a free port)")
	grace := fs.Duration("grace", 5*time.Second, "how long shutdown waits for calls in flight")
	var ro regserver.Options
	fs.StringVar(&ro.Token, "token", "", "shared token every client must present (clients: $"+regserver.TokenEnv+"); default $"+regserver.TokenEnv+", else none on loopback and a random one, printed, on any other address unless --client-ca authenticates clients")
	fs.DurationVar(&ro.MaxTTL, "max-ttl", 10*time.Minute, "longest lease TTL granted")
	fs.IntVar(&ro.Limits.PerOwner, "max-leases-per-client", 100, "live leases one client may hold")
	fs.IntVar(&ro.Limits.Leases, "max-leases", 10000, "live leases the registry holds in all")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("registry: unexpected arguments %q", fs.Args())
	}
	if ro.MaxTTL <= 0 || ro.Limits.PerOwner <= 0 || ro.Limits.Leases <= 0 {
		return usageError("registry: --max-ttl, --max-leases-per-client and --max-leases must be positive")
	}
	t, err := tf.build(tf.name)
	if err != nil {
		return err
	}
	ro.Token = cmp.Or(ro.Token, os.Getenv(regserver.TokenEnv))
	if ro.Token == "" && tf.o.TLSConf.ClientCA == "" && !loopback(tf.name, *addr) {
		if ro.Token, err = admin.NewToken(); err != nil {
			return err
		}
		fmt.Printf("rpcbench: registry token %s (it listens beyond loopback; clients set $%s)\n", ro.Token, regserver.TokenEnv)
	}
	rs, err := regserver.Listen(t, *addr, rpcbench.ServerOptions{}, ro)
	if err != nil {
		return err
	}
	// Scripts and tests read this line to learn the address.
	fmt.Printf("rpcbench: registry serving %s on %s\n", tf.name, rs.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		fmt.Fprintf(os.Stderr, "rpcbench: %v: shutting down the registry\n", s)
	case err := <-rs.Done():
		rs.Close()
		return fmt.Errorf("registry: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	return rs.Shutdown(ctx)
}

// loopback reports whether addr on transport is reachable from this host
// only.
func loopback(transport, addr string) bool {
	if transport == "unix" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// registryListCmd prints every service a registry holds and its instances.
func registryListCmd(args []string) error {
	fs := newFlagSet("registry list", "--registry URL")
	url := fs.String("registry", "rpcbench://127.0.0.1:7100", "the registry: rpcbench://HOST:PORT, etcd://HOST:PORT[/prefix] or mem:// (this process's own, always empty)")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline for reading the registry")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("registry list: unexpected arguments %q", fs.Args())
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	reg, err := discovery.Open(ctx, *url)
	if err != nil {
		return usageError("registry list: %v", err)
	}
	defer reg.Close()
	lister, ok := reg.(discovery.Lister)
	if !ok {
		return fmt.Errorf("registry list: %s cannot list its services", *url)
	}
	names, err := lister.Services(ctx)
	if err != nil {
		return fmt.Errorf("registry list: %s: %w", *url, err)
	}
	if len(names) == 0 {
		fmt.Printf("no services registered in %s\n", *url)
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tINSTANCE\tADDR\tTRANSPORT\tCODEC\tWEIGHT\tMETADATA")
	for _, name := range names {
		insts, err := reg.Resolve(ctx, name)
		if err != nil {
			return fmt.Errorf("registry list: resolving %s: %w", name, err)
		}
		for _, in := range insts {
			var meta []string
			for _, k := range slices.Sorted(maps.Keys(in.Metadata)) {
				meta = append(meta, k+"="+in.Metadata[k])
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", in.Service, in.ID, in.Addr, in.Transport, orDash(in.Codec), in.Weight, orDash(strings.Join(meta, ",")))
		}
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// announceFlags are the flags with which `rpcbench serve` announces itself
// in a registry. serve.go calls register on its flag set, announce once
// its listeners are up, and the returned stop before Shutdown.
type announceFlags struct {
	registry string
	services string
	id       string
	weight   int
	ttl      time.Duration
	meta     string
}

func (af *announceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&af.registry, "registry", "", "announce this server in a registry: rpcbench://HOST:PORT (an rpcbench registry process), etcd://HOST:PORT[/prefix] (default: do not announce)")
	fs.StringVar(&af.services, "service-name", "", "comma-separated service names to announce (default: every service registered, e.g. Arith,Bench,Echo)")
	fs.StringVar(&af.id, "instance-id", "", "instance ID in the registry (default TRANSPORT://ADDR; with several listeners, the listener's address is appended)")
	fs.IntVar(&af.weight, "weight", 1, "the instance's weight for weighted balancers")
	fs.DurationVar(&af.ttl, "registry-ttl", discovery.DefaultTTL, "lease TTL: a killed server leaves the registry this long after its last heartbeat")
	fs.StringVar(&af.meta, "metadata", "", "instance metadata as k=v,k=v")
}

// listenerAddr is one listener to announce.
type listenerAddr struct{ transport, addr string }

// announce registers srv's services at every listener's address; it is a
// no-op if --registry is empty. The returned stop deregisters and closes
// the registry connection.
func (af *announceFlags) announce(ctx context.Context, srv *rpcbench.Server, ls []listenerAddr) (stop func(context.Context) error, err error) {
	if af.registry == "" {
		return func(context.Context) error { return nil }, nil
	}
	reg, err := discovery.Open(ctx, af.registry)
	if err != nil {
		return nil, err
	}
	var services []string
	if af.services != "" {
		services = strings.Split(af.services, ",")
	} else {
		seen := map[string]bool{}
		for _, m := range srv.Methods() {
			if s, _, ok := strings.Cut(m, "."); ok && !seen[s] {
				seen[s] = true
				services = append(services, s)
			}
		}
	}
	meta := map[string]string{}
	if af.meta != "" {
		for _, kv := range strings.Split(af.meta, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				reg.Close()
				return nil, usageError("serve: --metadata %q: want k=v pairs", af.meta)
			}
			meta[k] = v
		}
	}
	var insts []discovery.Instance
	for _, l := range ls {
		id := af.id
		if id != "" && len(ls) > 1 {
			id += "/" + l.transport + "://" + l.addr
		}
		for _, s := range services {
			insts = append(insts, discovery.Instance{Service: s, ID: id, Addr: l.addr, Transport: l.transport, Weight: af.weight, Metadata: meta})
		}
	}
	a, err := discovery.Announce(ctx, reg, af.ttl, insts...)
	if err != nil {
		reg.Close()
		return nil, err
	}
	fmt.Printf("rpcbench: announced %s in %s (%v, TTL %v)\n", strings.Join(services, ","), af.registry, a.Lease(), af.ttl)
	return func(ctx context.Context) error {
		err := a.Stop(ctx)
		reg.Close()
		return err
	}, nil
}
