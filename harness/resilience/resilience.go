// Package resilience runs the harness's resilience scenarios (see
// spec.Scenario): for each balancer × retry policy, K real server
// processes announce themselves in a registry, a cluster client finds
// them there and drives one load through them, and a fault schedule kills,
// stops, restarts or slows instances on a timeline. The run is recorded
// in time buckets: calls that ended OK or failed (by code), latency before,
// during and after the fault window, and the calls each instance answered,
// from which the reports draw traffic per instance over time and read the
// time until the service was error-free again after each fault.
//
// Every issued call is accounted for: it ends OK or failed, and the
// timeline's totals must equal the load engine's, or the run fails.
package resilience

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/cluster"
	"rpcbench/discovery"
	_ "rpcbench/discovery/etcdreg" // etcd:// registries
	"rpcbench/discovery/regserver"
	"rpcbench/harness/load"
	"rpcbench/harness/results"
	"rpcbench/harness/rpctarget"
	"rpcbench/harness/serverproc"
	"rpcbench/harness/spec"
	"rpcbench/target"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // transports are chosen by name here
)

// Options configure scenario runs.
type Options struct {
	// ServerBinary is started as each instance with ServerArgs (the
	// runner's bench-server command line) plus the flags with which it
	// announces itself.
	ServerBinary string
	ServerArgs   func(t spec.Transport, addr string) []string
	// ServerCPUs pins every instance (none: not pinned).
	ServerCPUs []int
	// Seed for payloads and Poisson arrivals.
	Seed int64
	// Log receives one line per run; nil for none.
	Log io.Writer
}

// services counts the service names used in this process, so that runs
// sharing an external registry never see each other's instances.
var services atomic.Int64

// Run runs every combination of sc, one after another. A combination that
// cannot run is recorded as failed and the others go on.
func Run(ctx context.Context, sc spec.Scenario, opts Options) *results.Scenario {
	out := &results.Scenario{Name: sc.Name, Settings: sc}
	for _, comb := range sc.Combinations() {
		if ctx.Err() != nil {
			break
		}
		run := runOne(ctx, &sc, comb, opts)
		if opts.Log != nil {
			if run.Status == results.StatusFailed {
				fmt.Fprintf(opts.Log, "rpcbench: scenario %s (balancer %s, retries %s) failed: %s\n", sc.Name, comb.Balancer, comb.Retries, run.Error)
			} else {
				fmt.Fprintf(opts.Log, "rpcbench: scenario %s (balancer %s, retries %s): %d calls, %d failed\n", sc.Name, comb.Balancer, comb.Retries, run.Issued, run.Failed)
			}
		}
		out.Runs = append(out.Runs, run)
	}
	return out
}

// runOne runs one combination.
func runOne(ctx context.Context, sc *spec.Scenario, comb spec.Combination, opts Options) *results.ScenarioRun {
	run := &results.ScenarioRun{Balancer: comb.Balancer, Retries: comb.Retries, Rep: comb.Rep, Status: results.StatusOK}
	if err := drive(ctx, sc, comb, opts, run); err != nil {
		run.Status, run.Error = results.StatusFailed, err.Error()
	}
	return run
}

// drive sets the scenario up, runs the load with the fault schedule, and
// tears everything down.
func drive(ctx context.Context, sc *spec.Scenario, comb spec.Combination, opts Options, run *results.ScenarioRun) (err error) {
	t, err := sc.ParsedTransport()
	if err != nil {
		return err
	}
	echo, err := rpctarget.NewEcho(sc.Payload, sc.Codec, opts.Seed)
	if err != nil {
		return err
	}
	reg, url, closeReg, err := openRegistry(ctx, sc.Registry)
	if err != nil {
		return err
	}
	defer closeReg()

	f := &fleet{binary: opts.ServerBinary, args: opts.ServerArgs, transport: t, registry: url,
		service: fmt.Sprintf("resilience-%d-%d", os.Getpid(), services.Add(1)), ttl: sc.RegistryTTL.D(),
		cpus: opts.ServerCPUs, procs: make([]*serverproc.Proc, sc.Instances)}
	defer func() {
		if serr := f.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	for n := 1; n <= sc.Instances; n++ {
		if err := f.start(n); err != nil {
			return err
		}
	}
	for n := 1; n <= sc.Instances; n++ {
		run.Instances = append(run.Instances, instanceID(n))
	}
	winFrom, winTo := sc.FaultWindow()
	l := sc.ParsedLoad()
	tl := newTimeline(sc.Bucket.D(), sc.Duration.D(), winFrom, winTo, sc.Concurrency, run.Instances)
	co, desc := clientOptions(sc, comb, t, echo.Method)
	co.OnAttempt = tl.onAttempt
	run.Notes = append(run.Notes, "client: "+desc)

	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := cluster.Dial(dctx, reg, f.service, co)
	if err != nil {
		return err
	}
	defer c.Close()
	resp := echo.Zero()
	if err := c.Call(dctx, echo.Method, echo.Req, resp); err != nil {
		return fmt.Errorf("first call: %w", err)
	}
	if !echo.Same(resp) {
		return fmt.Errorf("echo of %s through %s came back different", sc.Payload, sc.Codec)
	}

	conns := []target.Conn{&clusterConn{c: c, echo: echo, timeout: sc.Timeout.D()}}
	lo := load.Options{Workers: sc.Concurrency, Open: l.Kind == "open", Rate: l.Rate, Poisson: l.Poisson,
		Seed: opts.Seed, Grace: 2*sc.Timeout.D() + time.Second}
	if sc.Warmup > 0 {
		w := lo
		w.Duration = sc.Warmup.D()
		if _, err := load.Run(ctx, conns, w); err != nil {
			return err
		}
	}
	sched := newSchedule(sc.Faults, f)
	var before cluster.Stats
	lo.Duration = sc.Duration.D()
	lo.OnCall = tl.onCall
	lo.Started = func() {
		before = c.Stats()
		tl.start()
		sched.start(ctx)
	}
	res, err := load.Run(ctx, conns, lo)
	sched.wait()
	if err != nil {
		return err
	}
	afterStats := c.Stats()
	run.Client = results.ClusterCounters{Attempts: afterStats.Attempts - before.Attempts, Retries: afterStats.Retries - before.Retries,
		Hedges: afterStats.Hedges - before.Hedges, BudgetDenied: afterStats.BudgetDenied - before.BudgetDenied}
	if err := tl.fill(run); err != nil {
		return err
	}
	run.Faults = sched.outcomes(run.Fails, sc.Bucket.D(), int((sc.Settle.D()+sc.Bucket.D()-1)/sc.Bucket.D()))
	run.Issued = res.Calls
	if res.Open != nil {
		run.Issued = res.Open.Scheduled
		run.Open = results.NewOpen(res.Open, float64(run.OK)/sc.Duration.D().Seconds())
	}
	if n := tl.late.Load(); n > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%d answers came after the timeline's end (calls started in it); counted in its last bucket", n))
	}
	// Every call is accounted for: the timeline saw what the engine did.
	if run.OK != res.Rec.Latency.Count() || run.Failed != res.Rec.ErrorCount() || run.OK+run.Failed != run.Issued {
		return fmt.Errorf("resilience: accounting mismatch: timeline %d ok + %d failed, load engine %d ok + %d failed of %d issued",
			run.OK, run.Failed, res.Rec.Latency.Count(), res.Rec.ErrorCount(), run.Issued)
	}
	return nil
}

// openRegistry returns the resolver the client follows, the URL the
// instances announce to, and how to close it. "mem" serves an embedded
// registry on loopback for the child processes; the client reads its store
// directly.
func openRegistry(ctx context.Context, target string) (discovery.Resolver, string, func(), error) {
	if target != spec.RegistryMem {
		reg, err := discovery.Open(ctx, target)
		if err != nil {
			return nil, "", nil, err
		}
		return reg, target, func() { reg.Close() }, nil
	}
	t, err := transports.New("tcp", transports.Options{})
	if err != nil {
		return nil, "", nil, err
	}
	rs, err := regserver.Listen(t, "127.0.0.1:0", rpcbench.ServerOptions{Logf: func(string, ...any) {}}, regserver.Options{})
	if err != nil {
		return nil, "", nil, err
	}
	return rs.Registry(), "rpcbench://" + rs.Addr().String(), func() { rs.Close() }, nil
}

// clientOptions maps a retry policy onto the cluster client's options and
// describes the settings for the results.
func clientOptions(sc *spec.Scenario, comb spec.Combination, t spec.Transport, method string) (cluster.Options, string) {
	o := cluster.Options{Balancer: comb.Balancer, Client: rpcbench.ClientOptions{Codec: sc.Codec},
		TransportOptions: t.Options(), MinInstances: sc.Instances}
	switch comb.Retries {
	case spec.RetryNone:
		o.Retry.MaxAttempts = 1
	case spec.RetryIdempotent:
		o.Idempotent = []string{method}
	case spec.RetryHedged:
		o.Idempotent = []string{method}
		o.Hedge.Delay = sc.HedgeDelay.D()
	}
	d := []string{"balancer " + comb.Balancer}
	switch comb.Retries {
	case spec.RetryNone:
		d = append(d, "1 attempt per call (no retries, no failover)")
	case spec.RetryFailover:
		d = append(d, "up to 3 attempts, only for calls that never reached a server (method not idempotent)")
	default:
		d = append(d, "up to 3 attempts, "+method+" declared idempotent")
		if o.Hedge.Delay > 0 {
			d = append(d, fmt.Sprintf("hedged after %v", o.Hedge.Delay))
		}
	}
	d = append(d, "default backoff (10ms doubling to 1s, jitter 0.5), retry budget (20% of calls + 10/s), breaker (5 failures, 1s cooldown), heartbeat 1s",
		fmt.Sprintf("per-call timeout %v", sc.Timeout.D()))
	return o, strings.Join(d, "; ")
}

// clusterConn is the load engine's view of the cluster client: every
// worker shares it, as callers of one service share one client.
type clusterConn struct {
	c       *cluster.Client
	echo    rpctarget.Echo
	timeout time.Duration
}

func (cc *clusterConn) NewCaller() (target.Caller, error) {
	resp := cc.echo.Zero()
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, cc.timeout)
		defer cancel()
		return cc.c.Call(ctx, cc.echo.Method, cc.echo.Req, resp)
	}, nil
}

// Close leaves the client to drive's deferred Close.
func (cc *clusterConn) Close() error { return nil }
