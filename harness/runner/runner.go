// Package runner runs a matrix spec: for every repetition, every cell in
// turn (A B C, A B C, ...), it starts the server process, dials the cell's
// connections, checks one echo, warms up, measures one window with the
// cost probes around it, and stops the server. A cell that cannot run is
// recorded as failed with its error and the run goes on. With
// Options.Server it starts no server: cells dial one on another host. The
// results go to results.json and the reports under results/<run id>/.
package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"rpcbench/codecs"
	"rpcbench/cost"
	"rpcbench/harness/remote"
	"rpcbench/harness/resilience"
	"rpcbench/harness/results"
	"rpcbench/harness/rpctarget"
	"rpcbench/harness/spec"
	"rpcbench/internal/rabbitmq"
	"rpcbench/internal/sysmon"
	"rpcbench/netem"
	"rpcbench/peers"
	"rpcbench/target"
	"rpcbench/targets"
	"rpcbench/transports"
	"rpcbench/transports/tlsconf"
)

// Options configure a run.
type Options struct {
	Spec     *spec.Spec
	SpecYAML []byte
	SpecPath string
	// Dir is the run's directory; empty means ResultsRoot/<run id>.
	Dir string
	// ResultsRoot holds run directories and the "latest" link. Default
	// "results".
	ResultsRoot string
	// NoWrite keeps everything in memory (ad-hoc cells).
	NoWrite bool
	// ServerBinary is the program started as the server; default this
	// executable. ServerArgs builds its arguments; default BenchServerArgs.
	ServerBinary string
	ServerArgs   func(t spec.Transport, addr string) []string
	// Peers finds the peer a transport name stands for; default
	// peers.Lookup. Specs accept only the names in peers.Names, so another
	// lookup can change what a peer does (a test's fake), not add names.
	Peers func(name string) (target.Peer, bool)
	// Progress receives the progress line; nil for none. Terminal rewrites
	// one line in place instead of printing one per cell.
	Progress io.Writer
	Terminal bool
	// Log receives a line per failed repetition; nil for none.
	Log io.Writer
	// Command is recorded in the manifest.
	Command []string
	// Server is the address of a server this run does not start ('rpcbench
	// serve' on another host; see package remote): cells dial it, and its
	// costs come from its admin methods. Empty: the runner starts one per
	// cell as the spec says.
	Server string
	// ServerTLS is how cells and admin calls verify Server's TLS
	// certificate (CA file or Insecure) and the client certificate they
	// present; the servers the runner starts need none of it (they present
	// this process's own certificate, see tlsconf.SelfEnv).
	ServerTLS tlsconf.Settings
	// AdminToken is Server's admin token ('rpcbench serve --admin').
	AdminToken string
	// LoadID tells apart load processes that run the same spec at once
	// against one Server, or against the same external targets (their runs
	// are merged later); it suffixes the run id.
	LoadID int
	// Broker is the message broker of the brokered cells
	// (nats://HOST:PORT, amqp://USER:PASSWORD@HOST:PORT): an existing one,
	// whose CPU the run cannot count. Empty: the server processes of nats
	// cells embed a NATS server, and the runner starts one RabbitMQ node
	// for the run's amqp cells.
	Broker string
	// WriteReports renders the reports into the run directory (the report
	// package's WriteAll; the runner does not import it so that reports
	// can be re-rendered without a runner).
	WriteReports func(dir string, run *results.Run) error
	// Fleet, with Server, generates each cell's load on worker processes
	// (fleet.go) instead of this one.
	Fleet Fleet
	// Barrier, if set, is called between each warm-up and its measured
	// window; the window starts when it returns (a fleet's start instant).
	Barrier func(context.Context) error
}

// defaultPeers is where transport names of peers are looked up.
var defaultPeers = peers.Lookup

// BenchServerArgs is the default server command line: the binary's
// bench-server subcommand with the transport's flags.
func BenchServerArgs(t spec.Transport, addr string) []string {
	args := []string{"bench-server", "--transport", t.Name, "--addr", addr}
	if t.Engine != "" {
		args = append(args, "--engine", t.Engine)
	}
	if t.Mode != "" {
		args = append(args, "--mode", t.Mode)
	}
	if t.TLS {
		args = append(args, "--tls")
	}
	if t.Workers {
		args = append(args, "--workers")
	}
	return args
}

// RemoteScenarioSkip is why a spec's scenarios do not run against a
// remote server.
const RemoteScenarioSkip = "it starts, kills and restarts its own local server processes, which --server excludes"

// MinCeilingRatio is how much faster than the fastest real cell the
// generator-ceiling cell must be.
const MinCeilingRatio = 10

type runner struct {
	opts       Options
	sp         *spec.Spec
	remote     *remote.Server
	run        *results.Run
	serverCPUs []int
	sockets    int
	progress   *progress
	// targets are the external targets the cells use, opened (descriptors
	// loaded, data checked, one call made) before any cell runs.
	targets map[string]targets.Target
	// topRate is the highest open-loop target rate run so far, for the
	// pacer-ceiling cell.
	topRate float64
	// shareOnly: this process generates one share of a fleet's load
	// (Share) and leaves the server's costs to the coordinator.
	shareOnly bool
	// protosets holds the descriptor files handed to server processes
	// for users' messages (payloads.go); "" until one is written.
	protosets string
	// rabbit is the run's RabbitMQ node for amqp cells, or why there is
	// none.
	rabbit    *rabbitmq.Node
	rabbitErr error
}

// Run executes the spec and returns its results; unless NoWrite, they are
// also written with the reports, and ResultsRoot/latest points at them.
func Run(ctx context.Context, opts Options) (*results.Run, string, error) {
	sp := opts.Spec
	plan, err := sp.Expand()
	if err != nil {
		return nil, "", err
	}
	if opts.ResultsRoot == "" {
		opts.ResultsRoot = "results"
	}
	if opts.Peers == nil {
		opts.Peers = defaultPeers
	}
	if opts.Fleet != nil && opts.Server == "" {
		return nil, "", fmt.Errorf("runner: a fleet of workers measures a server of its own (Options.Server)")
	}
	if opts.ServerArgs == nil {
		opts.ServerArgs = BenchServerArgs
	}
	if opts.ServerBinary == "" && sp.Server == "process" {
		if opts.ServerBinary, err = os.Executable(); err != nil {
			return nil, "", fmt.Errorf("runner: finding the server binary: %w", err)
		}
	}
	r := &runner{opts: opts, sp: sp}
	r.run = &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, Manifest: manifest(opts)}
	started := r.run.Manifest.Started
	r.run.RunID = started.UTC().Format("20060102T150405Z") + "-" + safeName(sp.Name) + loadSuffix(opts.LoadID)
	r.run.Manifest.LoadID = opts.LoadID
	if opts.Server != "" {
		if err := r.dialRemote(ctx); err != nil {
			return nil, "", err
		}
		defer r.remote.Close()
	}
	r.run.Manifest.Notes = append(r.run.Manifest.Notes, plan.Notes...)
	if opts.Fleet != nil {
		r.run.Manifest.Notes = append(r.run.Manifest.Notes, "load generated by a fleet of workers (manifest.fleet); the generator's own ceiling cells ran in the coordinator alone, so they bound one worker, not the fleet")
	}
	if n := injectionNote(); n != "" {
		r.run.Manifest.Notes = append(r.run.Manifest.Notes, n)
	}
	r.cells(plan)
	if err := r.openTargets(ctx); err != nil {
		return nil, "", err
	}
	r.run.Manifest.Peers = peerSettings(r.run.Cells, opts.Peers)
	if r.run.Manifest.Profiles = profiles(r.run.Cells); r.run.Manifest.Profiles != nil {
		r.run.Manifest.ProfileModel = "relay (package netem) in the client process, so its CPU counts as client CPU; " + netem.Model
	}
	if err := r.resolveReference(); err != nil {
		return nil, "", err
	}
	dir := opts.Dir
	if !opts.NoWrite {
		if dir == "" {
			dir = filepath.Join(opts.ResultsRoot, r.run.RunID)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
	}
	restore := r.pin()
	defer restore()
	defer r.removeProtosets()
	stopBroker := r.startBroker()
	defer stopBroker()

	r.progress = newProgress(opts.Progress, opts.Terminal, r.estimates())
	for rep := 0; rep < sp.Repetitions; rep++ {
		for _, c := range r.run.Cells {
			if c.Status == results.StatusSkipped {
				continue
			}
			if err := ctx.Err(); err != nil {
				return r.finish(dir, err)
			}
			r.progress.start(c, rep, sp.Repetitions)
			rr := r.runRep(ctx, c, rep)
			c.Reps = append(c.Reps, rr)
			if rr.Status == results.StatusFailed && opts.Log != nil {
				r.progress.clear()
				fmt.Fprintf(opts.Log, "rpcbench: %s rep %d failed: %s\n", c.Key, rep+1, rr.Error)
			}
			r.progress.done(c)
		}
		// Save after every round, so an interrupted run keeps what it has.
		if err := r.save(dir); err != nil {
			return nil, "", err
		}
	}
	r.progress.clear()
	// Scenarios run after the cells, not interleaved with them: each one
	// has the machine to itself for its whole timeline (K server processes
	// and a fault schedule), and its figures are read within the run
	// (before against during a fault), not compared across repetitions,
	// so the drift that interleaving spreads does not bias them.
	for _, sc := range sp.Scenarios {
		if err := ctx.Err(); err != nil {
			return r.finish(dir, err)
		}
		if r.opts.Server != "" {
			// A scenario kills and restarts its own server processes.
			r.run.Manifest.Notes = append(r.run.Manifest.Notes, fmt.Sprintf("scenario %s skipped: %s", sc.Name, RemoteScenarioSkip))
			continue
		}
		if r.opts.ServerBinary == "" {
			if r.opts.ServerBinary, err = os.Executable(); err != nil {
				return nil, "", fmt.Errorf("runner: finding the server binary: %w", err)
			}
		}
		r.run.Scenarios = append(r.run.Scenarios, resilience.Run(ctx, sc, resilience.Options{
			ServerBinary: r.opts.ServerBinary, ServerArgs: r.opts.ServerArgs, ServerCPUs: r.serverCPUs,
			Seed: sp.Seed, Log: opts.Progress}))
		if err := r.save(dir); err != nil {
			return nil, "", err
		}
	}
	return r.finish(dir, nil)
}

// save merges what has run and writes results.json.
func (r *runner) save(dir string) error {
	mergeAll(r.run)
	if r.opts.NoWrite {
		return nil
	}
	return r.run.Write(filepath.Join(dir, "results.json"))
}

// Plan expands the spec as Run would, without running anything: the cells
// (with their skip reasons) and the estimated wall time of the whole run.
func Plan(sp *spec.Spec, server string) ([]*results.Cell, time.Duration, error) {
	plan, err := sp.Expand()
	if err != nil {
		return nil, 0, err
	}
	r := &runner{sp: sp, run: &results.Run{}, opts: Options{Server: server, Peers: peers.Lookup}}
	r.cells(plan)
	total := 0.0
	if needsRabbit(r.run.Cells, r.opts) {
		total += brokerStartup.Seconds()
	}
	for _, s := range r.estimates() {
		total += s * float64(sp.Repetitions)
	}
	for _, sc := range sp.Scenarios {
		if server != "" {
			break // skipped against a remote server
		}
		// Each run: instances start, warm-up, the timeline, shutdown.
		per := 0.2*float64(sc.Instances) + sc.Warmup.D().Seconds() + sc.Duration.D().Seconds() + 0.5
		total += per * float64(len(sc.Combinations()))
	}
	return r.run.Cells, time.Duration(total * float64(time.Second)), nil
}

// finish merges, checks the generator ceiling and writes everything.
func (r *runner) finish(dir string, runErr error) (*results.Run, string, error) {
	r.progress.clear()
	r.run.Manifest.Finished = time.Now()
	if r.opts.Fleet != nil {
		r.run.Manifest.Fleet = r.opts.Fleet.Manifest()
	}
	if runErr != nil {
		r.run.Manifest.Notes = append(r.run.Manifest.Notes, "run interrupted: "+runErr.Error())
	}
	mergeAll(r.run)
	r.run.Manifest.GeneratorCeiling = ceiling(r.run)
	r.run.Manifest.PacerCeiling = pacerCeiling(r.run)
	if r.opts.NoWrite {
		return r.run, "", runErr
	}
	if err := r.run.Write(filepath.Join(dir, "results.json")); err != nil {
		return r.run, dir, err
	}
	if r.opts.WriteReports != nil {
		if err := r.opts.WriteReports(dir, r.run); err != nil {
			return r.run, dir, err
		}
	}
	if err := linkLatest(r.opts.ResultsRoot, dir); err != nil {
		return r.run, dir, err
	}
	return r.run, dir, runErr
}

// cells turns the plan into result cells, marking the ones that cannot
// run and adding the generator-ceiling cell.
func (r *runner) cells(plan *spec.Plan) {
	maxConc, hasNoop, openConc := 0, false, 0
	for _, pc := range plan.Cells {
		c := &results.Cell{Key: pc.Key, Group: pc.Group, Params: pc, Status: results.StatusOK}
		if pc.Target != "" {
			if pc.Profile != nil && pc.Transport.Name == "rpcbench+unix" {
				c.Status, c.SkipReason = results.StatusSkipped, "network profiles relay TCP and UDP; a unix socket has no network path to impair"
			}
		} else if pc.Transport.Name == spec.NoopTransport {
			hasNoop = true
		} else if pc.Payload == "none" || pc.Codec == "none" {
			c.Status, c.SkipReason = results.StatusSkipped, "codec and payload \"none\" are only for the noop transport"
		} else if reason := r.payloadSkip(pc); reason != "" {
			c.Status, c.SkipReason = results.StatusSkipped, reason
		} else if reason := r.remoteSkip(pc); reason != "" {
			c.Status, c.SkipReason = results.StatusSkipped, reason
		} else if reason := FleetSkip(pc); reason != "" && r.opts.Fleet != nil {
			c.Status, c.SkipReason = results.StatusSkipped, reason
		} else if pc.Profile != nil && pc.Transport.Name == "unix" {
			c.Status, c.SkipReason = results.StatusSkipped, "network profiles relay TCP and UDP; a unix socket has no network path to impair"
		}
		if pc.Profile != nil && pc.Transport.Name == spec.NoopTransport {
			c.Status, c.SkipReason = results.StatusSkipped, "the no-op target has no network path"
		}
		switch {
		case c.Status == results.StatusSkipped || pc.Transport.Name == spec.NoopTransport:
		case pc.Load.Kind == "closed":
			maxConc = max(maxConc, pc.Concurrency)
		case pc.Load.Kind == "open":
			r.topRate = max(r.topRate, pc.Load.Rate)
			fallthrough
		default:
			openConc = max(openConc, pc.Concurrency)
		}
		r.run.Cells = append(r.run.Cells, c)
	}
	if *r.sp.GeneratorCeiling && !hasNoop && len(plan.Cells) > 0 {
		if maxConc == 0 {
			maxConc = 64
		}
		pc := spec.Cell{Group: "generator", Transport: spec.Transport{Name: spec.NoopTransport}, Codec: "none", Compression: "none",
			Payload: "none", Concurrency: maxConc, Connections: 1, Load: spec.Load{Kind: "closed"}}
		pc.Key = pc.KeyOf()
		r.run.Cells = append(r.run.Cells, &results.Cell{Key: pc.Key, Group: pc.Group, Params: pc, Status: results.StatusOK})
	}
	// The pacer's own ceiling: run last in each round, after the sweeps
	// that set its rate.
	if *r.sp.GeneratorCeiling && openConc > 0 {
		pc := spec.Cell{Group: "generator", Transport: spec.Transport{Name: spec.NoopTransport}, Codec: "none", Compression: "none",
			Payload: "none", Concurrency: openConc, Connections: 1, Load: spec.Load{Kind: spec.PacerLoad}}
		pc.Key = pc.KeyOf()
		r.run.Cells = append(r.run.Cells, &results.Cell{Key: pc.Key, Group: pc.Group, Params: pc, Status: results.StatusOK})
	}
}

func (r *runner) resolveReference() error {
	m := &r.run.Manifest
	if r.sp.Reference != "" {
		c, err := r.run.FindCell(r.sp.Reference)
		if err != nil {
			return fmt.Errorf("spec reference: %w", err)
		}
		m.Reference = c.Key
		return nil
	}
	for _, c := range r.run.Cells {
		if c.Status != results.StatusSkipped && c.Params.Transport.Name != spec.NoopTransport && c.Params.Load.Kind != "sweep" {
			m.Reference = c.Key
			return nil
		}
	}
	return nil
}

// pin splits the CPUs between client and server and pins this process.
func (r *runner) pin() (restore func()) {
	p := &r.run.Manifest.Pinning
	defer func() {
		if sysmon.Active() {
			p.GODEBUG = sysmon.Setting
		}
	}()
	p.ClientGOMAXPROCS = runtime.GOMAXPROCS(0)
	if r.sp.Pin == "off" {
		p.Note = "pinning off in the spec"
		return func() {}
	}
	if r.remote != nil {
		p.Note = "server on another host: this process not pinned"
		return func() {}
	}
	if r.sp.Server != "process" {
		p.Note = "server in process: not pinned"
		return func() {}
	}
	client, server, ok := cost.SplitCPUs()
	if !ok {
		p.Note = "fewer than 2 CPUs available: not pinned"
		return func() {}
	}
	before, _ := cost.Affinity()
	procs := runtime.GOMAXPROCS(0)
	if err := cost.Pin(client); err != nil {
		p.Note = "pinning failed: " + err.Error()
		return func() {}
	}
	runtime.GOMAXPROCS(len(client))
	r.serverCPUs = server
	*p = results.Pinning{Enabled: true, ClientCPUs: cost.FormatCPUs(client), ServerCPUs: cost.FormatCPUs(server),
		ClientGOMAXPROCS: len(client), ServerGOMAXPROCS: len(server),
		Note: "client (this process) and each server process pinned to separate CPUs with sched_setaffinity; GOMAXPROCS = CPUs"}
	return func() {
		cost.Pin(before)
		runtime.GOMAXPROCS(procs)
	}
}

// estimates returns the expected seconds of one repetition of each cell.
func (r *runner) estimates() map[string]float64 {
	est := map[string]float64{}
	sp := r.sp
	for _, c := range r.run.Cells {
		if c.Status == results.StatusSkipped {
			continue
		}
		startup := 0.15
		if c.Params.Transport.Name == spec.NoopTransport {
			startup = 0
		}
		window := func(d spec.Duration, calls int64) float64 {
			if calls > 0 {
				return 0.5 // unknown: a guess, corrected as cells finish
			}
			return d.D().Seconds()
		}
		switch c.Params.Load.Kind {
		case spec.PacerLoad:
			// The top rate, and as often a halving (guess: one).
			est[c.Key] = 2 * (sp.Sweep.StepWarmup.D().Seconds() + sp.Sweep.StepDuration.D().Seconds())
			continue
		case "sweep":
			// Every step, and a re-run of each of the StopAfter failures
			// that end it.
			steps := float64(len(sp.Sweep.Rates) + sp.Sweep.StopAfter)
			est[c.Key] = startup + sp.Sweep.Probe.D().Seconds() + sp.Sweep.StepWarmup.D().Seconds() +
				steps*(sp.Sweep.StepWarmup.D().Seconds()+sp.Sweep.StepDuration.D().Seconds())
			continue
		}
		est[c.Key] = startup + window(sp.Warmup, sp.WarmupCalls) + window(sp.Duration, sp.Calls)
	}
	return est
}

// linkLatest points root/latest at dir.
func linkLatest(root, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	target := abs
	if rel, err := filepath.Rel(rootAbs, abs); err == nil && !strings.HasPrefix(rel, "..") {
		target = rel
	} else {
		return nil // the run is not under the results root: leave latest alone
	}
	link := filepath.Join(root, "latest")
	// Per process: load processes of one run may finish together.
	tmp := fmt.Sprintf("%s.tmp%d", link, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// safeName keeps letters, digits, '-', '_' and '.'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// ceiling compares the no-op cell with the fastest real cell.
func ceiling(run *results.Run) *results.GeneratorCeiling {
	var noop, fastest *results.Cell
	for _, c := range run.Cells {
		if !c.Ran() || c.Params.Load.Kind != "closed" {
			continue
		}
		if c.Params.Transport.Name == spec.NoopTransport {
			if noop == nil || c.Merged.Throughput.Median > noop.Merged.Throughput.Median {
				noop = c
			}
		} else if fastest == nil || c.Merged.Throughput.Median > fastest.Merged.Throughput.Median {
			fastest = c
		}
	}
	if noop == nil || fastest == nil {
		return nil
	}
	g := &results.GeneratorCeiling{Key: noop.Key, Throughput: noop.Merged.Throughput.Median, FastestKey: fastest.Key,
		Fastest: fastest.Merged.Throughput.Median, MinRatio: MinCeilingRatio}
	if g.Fastest > 0 {
		g.Ratio = g.Throughput / g.Fastest
	}
	g.OK = g.Ratio >= MinCeilingRatio
	if g.OK {
		g.Explanation = fmt.Sprintf("the load generator alone drives %.0f calls/s, %.0f× the fastest real cell: the generator is not what is measured", g.Throughput, g.Ratio)
	} else {
		g.Explanation = fmt.Sprintf("WARNING: the load generator alone drives only %.1f× the fastest real cell (want ≥ %d×): the fastest cells may be measuring the generator", g.Ratio, MinCeilingRatio)
	}
	return g
}

// manifest gathers the machine and build facts.
func manifest(opts Options) results.Manifest {
	sp := opts.Spec
	m := results.Manifest{
		SpecName: sp.Name, SpecPath: opts.SpecPath, SpecYAML: string(opts.SpecYAML), Spec: sp,
		Command: opts.Command, Started: time.Now(), GoVersion: runtime.Version(),
		CPUModel: cost.CPUModel(), Cores: runtime.NumCPU(), Kernel: cost.Kernel(), ServerMode: sp.Server,
		Transports: transports.Names(), Codecs: codecs.Names(), Compressors: codecs.CompressorNames(),
	}
	m.Hostname, _ = os.Hostname()
	m.TLSVerify = tlsVerify(opts)
	m.Commit, m.Dirty, m.Modules = buildInfo()
	co := rpctarget.ClientOptions("<codec>", "<compression>")
	m.ClientConfig = fmt.Sprintf("one rpcbench.Client per connection (Conns=%d, heartbeats off), workers spread round-robin over connections, each worker reuses its reply value; server: rpcbench.NewServer defaults, services.Register", co.Conns)
	return m
}

// tlsVerify says how the run's TLS clients verify their server.
func tlsVerify(opts Options) string {
	switch c := opts.ServerTLS; {
	case c.Insecure:
		return "server certificates not verified (--skip-verify)"
	case c.CA != "":
		return "verified against the certificates in " + c.CA + " (--cacert)"
	case opts.Server != "":
		return "verified; without --cacert only a certificate this process made is trusted"
	}
	return "verified: each server process presents this process's self-signed certificate"
}

// StatusOf chooses a repetition's status from its figures.
func StatusOf(f *results.Figures) string {
	switch {
	case f.Errors > 0:
		return results.StatusErrors
	case f.Open != nil && f.Open.Behind:
		return results.StatusBehind
	}
	return results.StatusOK
}

// profiles records the network profiles of cells, by name.
func profiles(cells []*results.Cell) map[string]*netem.Profile {
	var m map[string]*netem.Profile
	for _, c := range cells {
		if p := c.Params.Profile; p != nil {
			if m == nil {
				m = map[string]*netem.Profile{}
			}
			m[p.Name] = p
		}
	}
	return m
}

// peerSettings records the settings of every peer among cells.
func peerSettings(cells []*results.Cell, lookup func(string) (target.Peer, bool)) map[string]map[string]string {
	var m map[string]map[string]string
	for _, c := range cells {
		name := c.Params.Transport.Name
		if c.Params.Target != "" {
			continue
		}
		if p, ok := lookup(name); ok && p.Settings != nil && m[name] == nil {
			if m == nil {
				m = map[string]map[string]string{}
			}
			m[name] = p.Settings()
		}
	}
	return m
}
