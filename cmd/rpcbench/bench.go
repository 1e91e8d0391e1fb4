package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"rpcbench"
	"rpcbench/harness/fleet"
	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/serverproc"
	"rpcbench/harness/spec"
	"rpcbench/internal/plural"
	"rpcbench/peers"
	"rpcbench/services/admin"
	"rpcbench/transports/tlsconf"
)

// benchCmd runs `rpcbench bench`: a matrix spec, or one ad-hoc cell
// described by flags.
func benchCmd(args []string) error {
	fs := newFlagSet("bench", "--matrix FILE | [cell flags]")
	matrix := fs.String("matrix", "", "run the matrix spec in `FILE` (specs/default.yaml, specs/quick.yaml, ...)")
	out := fs.String("out", "", "write the run into `DIR` (default: results/<UTC time>-<spec name> for a matrix; nothing for an ad-hoc cell)")
	resultsRoot := fs.String("results", "results", "directory holding runs and the 'latest' link")
	progress := fs.String("progress", "auto", "progress line: auto (on a terminal, not in CI), always, never")
	inprocess := fs.Bool("inprocess", false, "run the server inside this process (debugging: costs of both sides mix)")
	server := fs.String("server", "", "measure the server already running at `[TRANSPORT://]HOST:PORT` ('rpcbench serve' on another host; its admin methods over tcp unless TRANSPORT says otherwise) instead of starting one per cell")
	adminToken := fs.String("admin-token", "", "with --server: the token the server's admin methods were started with ('rpcbench serve --admin'; default $"+admin.TokenEnv+")")
	loadID := fs.Int("load-id", 0, "with --server or external targets: number `N` of this load process among several run at once against one server (suffixes the run id; combine their runs with 'rpcbench merge')")
	workers := fs.String("workers", "", "with --server: generate each cell's load on the workers ('rpcbench worker') that join the fleet at `etcd://HOST:PORT/PREFIX`")
	expect := fs.Int("expect", 0, "with --workers: wait for this many workers before the first cell")
	joinTimeout := fs.Duration("join-timeout", fleet.DefaultJoinTimeout, "with --workers: how long to wait for them")
	ttl := fs.Duration("ttl", fleet.DefaultTTL, "with --workers: this coordinator's lease TTL: how soon the workers notice it is gone")
	pin := fs.String("pin", "", "CPU pinning: auto or off (default: the spec's, auto)")
	reps := fs.Int("reps", 0, "repetitions per cell (default: the spec's; ad-hoc 1)")
	duration := fs.Duration("duration", 0, "measured window per cell (default: the spec's; ad-hoc 5s)")
	calls := fs.Int64("calls", 0, "measure this many calls per cell instead of a duration")
	warmup := fs.Duration("warmup", 0, "warm-up per cell (default: the spec's; ad-hoc 1s)")
	dryRun := fs.Bool("dry-run", false, "print the cells and the estimated time, run nothing")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the client (this process) to `FILE`")
	traceFile := fs.String("trace", "", "write a runtime/trace execution trace of the client (this process) to `FILE`, for go tool trace (scheduler and network wait latencies)")
	// Ad-hoc cell.
	var tf transportFlags
	tf.register(fs, false, tlsClientCert)
	codec := fs.String("codec", "proto", "codec of the ad-hoc cell")
	compression := fs.String("compression", "none", "compression of the ad-hoc cell")
	payload := fs.String("payload", "Small", "payload of the ad-hoc cell: Small, Medium, Large, Bytes(n), or your message: proto(FILE:pkg.Msg, DATA.json)")
	conc := fs.Int("concurrency", 64, "workers (closed loop) or most calls in flight (open loop) of the ad-hoc cell")
	conns := fs.Int("conns", 1, "connections of the ad-hoc cell")
	loadModel := fs.String("load", "closed", "load model of the ad-hoc cell: closed, open, poisson, sweep")
	rate := fs.Float64("rate", 0, "open-loop target rate, calls/s")
	var xf targetFlags
	xf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("bench: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var (
		sp       *spec.Spec
		yamlText []byte
		err      error
		adhoc    = *matrix == ""
	)
	for _, name := range []string{"call", "data", "proto", "import-paths", "protoset", "metadata", "method", "header", "cacert", "skip-verify", "insecure"} {
		if set[name] && xf.url == "" && !(*server != "" && (name == "cacert" || name == "skip-verify")) {
			return usageError("bench: --%s describes an external target: it needs --target", name)
		}
	}
	switch {
	case adhoc && xf.url != "":
		for _, name := range []string{"transport", "engine", "mode", "tls", "compression", "payload", "server", "inprocess"} {
			if set[name] {
				return usageError("bench: --%s is for rpcbench's own server; an external target (--target) takes its protocol from its URL", name)
			}
		}
		c := ""
		if set["codec"] {
			c = *codec
		}
		d, err := xf.def(c, tf.o.TLSConf.ClientCert, tf.o.TLSConf.ClientKey)
		if err != nil {
			return usageError("bench: %v", err)
		}
		l, err := loadName(*loadModel, *rate)
		if err != nil {
			return usageError("bench: %v", err)
		}
		if sp, err = targetSpec(d, *conc, *conns, l); err != nil {
			return usageError("bench: %v", err)
		}
		sp.Repetitions, sp.Duration, sp.Warmup = 1, spec.Duration(5*time.Second), spec.Duration(time.Second)
		f := false
		sp.GeneratorCeiling = &f
	case adhoc:
		if sp, err = adhocSpec(&tf, *codec, *compression, *payload, *conc, *conns, *loadModel, *rate); err != nil {
			return usageError("bench: %v", adhocError(err))
		}
		sp.Repetitions, sp.Duration, sp.Warmup = 1, spec.Duration(5*time.Second), spec.Duration(time.Second)
		f := false
		sp.GeneratorCeiling = &f
	default:
		for _, name := range []string{"transport", "engine", "mode", "tls", "codec", "compression", "payload", "concurrency", "conns", "load", "rate", "target"} {
			if set[name] {
				return usageError("bench: --%s describes an ad-hoc cell; it cannot be combined with --matrix", name)
			}
		}
		if sp, yamlText, err = spec.ReadFile(*matrix); err != nil {
			return usageError("bench: %v", err)
		}
	}
	if set["reps"] {
		sp.Repetitions = *reps
	}
	if set["duration"] {
		sp.Duration, sp.Calls = spec.Duration(*duration), 0
	}
	if set["calls"] {
		sp.Calls, sp.Duration = *calls, 0
	}
	if set["warmup"] {
		sp.Warmup, sp.WarmupCalls = spec.Duration(*warmup), 0
	}
	if *inprocess {
		sp.Server = "inprocess"
	}
	if *server != "" && *inprocess {
		return usageError("bench: --server measures a server on another host; it cannot be combined with --inprocess")
	}
	if *server == "" {
		for _, name := range []string{"admin-token", "cert", "key"} {
			if set[name] && (name == "admin-token" || xf.url == "") {
				return usageError("bench: --%s concerns a server on another host (--server) or an external target (--target); bench trusts the servers it starts itself", name)
			}
		}
	}
	if *loadID != 0 && *server == "" && !targetsOnly(sp) {
		return usageError("bench: --load-id numbers load processes against one shared server: it needs --server, or cells that are all external targets")
	}
	var fleetAt fleet.Endpoint
	if *workers != "" {
		switch {
		case *server == "":
			return usageError("bench: --workers needs --server: the workers measure one server they share")
		case *loadID != 0:
			return usageError("bench: --workers numbers its workers itself: drop --load-id")
		case *expect < 1:
			return usageError("bench: --workers needs --expect N (N ≥ 1 workers)")
		case *ttl < time.Second:
			return usageError("bench: --ttl %v: want at least 1s", *ttl)
		}
		if fleetAt, err = fleet.ParseURL(*workers); err != nil {
			return usageError("bench: --workers: %v", err)
		}
	} else {
		for _, name := range []string{"expect", "join-timeout", "ttl"} {
			if set[name] {
				return usageError("bench: --%s concerns a fleet of workers: it needs --workers", name)
			}
		}
	}
	if *pin != "" {
		sp.Pin = *pin
	}
	if sp.Repetitions < 1 || sp.Pin != "auto" && sp.Pin != "off" {
		return usageError("bench: --reps must be ≥ 1 and --pin auto or off")
	}
	// Every flag is checked before anything runs, --dry-run included.
	var progressTo *os.File
	switch *progress {
	case "auto":
		if isTerminal(os.Stderr) && os.Getenv("CI") == "" {
			progressTo = os.Stderr
		}
	case "always":
		progressTo = os.Stderr
	case "never":
	default:
		return usageError("bench: --progress %q: want auto, always or never", *progress)
	}
	cells, est, err := runner.Plan(sp, *server)
	if err != nil {
		if adhoc {
			err = adhocError(err)
		}
		return usageError("bench: %v", err)
	}
	if *dryRun {
		runnable := 0
		for _, c := range cells {
			if c.Status == results.StatusSkipped {
				fmt.Printf("skip %s (%s)\n", c.Key, c.SkipReason)
				continue
			}
			runnable++
			fmt.Printf("run  %s\n", c.Key)
		}
		runs := 0
		for _, sc := range sp.Scenarios {
			if *server != "" {
				fmt.Printf("skip scenario %s (%s)\n", sc.Name, runner.RemoteScenarioSkip)
				continue
			}
			for _, c := range sc.Combinations() {
				runs++
				fmt.Printf("run  scenario %s: %s, balancer %s, retries %s, rep %d, %v\n", sc.Name, plural.Count(sc.Instances, "instance"), c.Balancer, c.Retries, c.Rep+1, sc.Duration.D())
			}
		}
		fmt.Printf("%s to run × %s and %s: %s (estimated %v, server start-ups included)\n", plural.Count(runnable, "cell"), plural.Count(sp.Repetitions, "repetition"), plural.Count(runs, "scenario run"), roughly(est), est.Round(time.Second))
		return nil
	}

	opts := runner.Options{
		Spec: sp, SpecYAML: yamlText, SpecPath: *matrix, Dir: *out, ResultsRoot: *resultsRoot,
		NoWrite: adhoc && *out == "", Log: os.Stderr, Command: os.Args, WriteReports: report.WriteAll,
		Server: *server, Broker: tf.o.Broker, LoadID: *loadID, ServerTLS: tlsconf.Settings{CA: xf.cacert, Insecure: xf.skipVerify, ClientCert: tf.o.TLSConf.ClientCert, ClientKey: tf.o.TLSConf.ClientKey}, AdminToken: cmp.Or(*adminToken, os.Getenv(admin.TokenEnv)),
	}
	if progressTo != nil {
		opts.Progress, opts.Terminal = progressTo, isTerminal(progressTo)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			return err
		}
		if err := trace.Start(f); err != nil {
			return err
		}
		defer func() { trace.Stop(); f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *workers != "" {
		co, err := fleet.Coordinate(ctx, fleetAt, fleet.CoordinatorConfig{Expect: *expect, JoinTimeout: *joinTimeout, TTL: *ttl, Server: *server, Spec: sp, Log: os.Stderr})
		if err != nil {
			return err
		}
		defer co.Close()
		opts.Fleet = co
	}
	run, dir, err := runner.Run(ctx, opts)
	if run != nil && (adhoc || dir == "") {
		report.Summary(os.Stdout, run)
	}
	if err != nil {
		return err
	}
	if dir != "" {
		fmt.Printf("rpcbench: %s; results in %s (report.md, report.html, bench.txt, hgrm/, results.json)\n", plural.Count(countRan(run), "cell"), dir)
		for _, c := range run.Cells {
			if c.Status == results.StatusErrors || c.Status == results.StatusFailed || c.Status == results.StatusBehind || c.Status == results.StatusDegraded {
				fmt.Printf("rpcbench: WARNING: cell %s: %s — see the report's Problems section\n", c.Key, strings.ToUpper(c.Status))
			}
		}
	}
	return nil
}

// adhocSpec builds a one-cell spec from flags.
func adhocSpec(tf *transportFlags, codec, compression, payload string, conc, conns int, model string, rate float64) (*spec.Spec, error) {
	t, err := spec.ParseTransport(tf.name)
	if err != nil {
		return nil, err
	}
	if tf.o.Engine != "" {
		t.Engine = tf.o.Engine
	}
	if tf.o.Mode != "" {
		t.Mode = tf.o.Mode
	}
	t.TLS = t.TLS || tf.o.TLS
	l, err := loadName(model, rate)
	if err != nil {
		return nil, err
	}
	// One group named for what it is; its errors are rewritten to name
	// the flags, which are what the user wrote.
	yaml := fmt.Sprintf("name: adhoc\ngroups:\n- name: ad-hoc\n  dimensions:\n    transport: [%q]\n    codec: [%q]\n    compression: [%q]\n    payload: [%q]\n    concurrency: [%d]\n    connections: [%d]\n    load: [%q]\n",
		t.String(), codec, compression, payload, conc, conns, l)
	return spec.Parse([]byte(yaml))
}

// adhocKey matches the position and key path of an ad-hoc cell's
// generated spec in an error.
var adhocKey = regexp.MustCompile(`(?m)^\d+:\d+: groups\[0\]\.dimensions\.(\w+)\[0\]: `)

// adhocFlags are the flags behind each dimension of the ad-hoc spec.
var adhocFlags = map[string]string{"connections": "conns"}

// adhocError rewrites errors about the generated spec to name the flags.
func adhocError(err error) error {
	return errors.New(adhocKey.ReplaceAllStringFunc(err.Error(), func(m string) string {
		dim := adhocKey.FindStringSubmatch(m)[1]
		if f, ok := adhocFlags[dim]; ok {
			dim = f
		}
		return "--" + dim + ": "
	}))
}

// roughly rounds a time estimate to the phrase README.md and
// specs/README.md quote for each spec (a test checks that they do).
func roughly(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return "about a minute"
	case d < 90*time.Minute:
		return fmt.Sprintf("about %d minutes", int(d.Minutes()+0.5))
	}
	return fmt.Sprintf("about %d hours", int(d.Hours()+0.5))
}

// loadName is the load dimension's value for --load and --rate.
func loadName(model string, rate float64) (string, error) {
	switch model {
	case "closed", "sweep":
		return model, nil
	case "open", "poisson":
		if rate <= 0 {
			return "", fmt.Errorf("--load %s needs --rate", model)
		}
		return fmt.Sprintf("%s@%g", model, rate), nil
	}
	return "", fmt.Errorf("--load %q: want closed, open, poisson or sweep", model)
}

func countRan(run *results.Run) int {
	n := 0
	for _, c := range run.Cells {
		if c.Ran() {
			n++
		}
	}
	return n
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// benchServerCmd runs `rpcbench bench-server`, the server process the
// harness starts for each cell: the built-in services on one transport,
// with a stats channel on stdin/stdout (see harness/serverproc).
func benchServerCmd(args []string) error {
	fs := newFlagSet("bench-server", "[flags]  (started by 'rpcbench bench'; stdin carries commands)")
	var tf transportFlags
	tf.register(fs, false, tlsServer)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	workers := fs.Bool("workers", false, "run every call on a worker goroutine, even methods declared inline")
	var ef echoFlags
	ef.register(fs)
	var af announceFlags
	af.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := ef.check("bench-server"); err != nil {
		return err
	}
	if p, ok := peers.Lookup(tf.name); ok {
		if af.registry != "" {
			return usageError("bench-server: --registry is for rpcbench transports, not the peer %q", tf.name)
		}
		return serverproc.ServePeer(tf.name, p, *addr, os.Stdin, os.Stdout)
	}
	t, err := tf.build(tf.name)
	if err != nil {
		return err
	}
	cfg := serverproc.ServeConfig{Transport: t, Name: tf.name, Addr: *addr, NoInline: *workers, In: os.Stdin, Out: os.Stdout, Log: os.Stderr}
	cfg.Register = ef.apply
	if af.registry != "" {
		// Resilience scenarios: the instance announces itself, as
		// 'rpcbench serve --registry' does.
		cfg.Announce = func(ctx context.Context, srv *rpcbench.Server, addr string) (func(context.Context) error, error) {
			return af.announce(ctx, srv, []listenerAddr{{tf.name, addr}})
		}
	}
	return serverproc.Serve(cfg)
}

// targetsOnly reports whether every cell of sp measures an external
// target, whose server every load process shares.
func targetsOnly(sp *spec.Spec) bool {
	plan, err := sp.Expand()
	if err != nil || len(plan.Cells) == 0 {
		return false
	}
	for _, c := range plan.Cells {
		if c.Target == "" {
			return false
		}
	}
	return true
}
