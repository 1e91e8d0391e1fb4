package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"rpcbench"
	"rpcbench/cost"
	"rpcbench/faults"
	"rpcbench/harness/load"
	"rpcbench/harness/protopayload"
	"rpcbench/harness/results"
	"rpcbench/harness/rpctarget"
	"rpcbench/harness/serverproc"
	"rpcbench/harness/spec"
	"rpcbench/netem"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/services/protoecho"
	"rpcbench/target"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // transports are chosen by name here
	"rpcbench/wirestats"
)

// Thresholds for open-loop flags.
const (
	// behindLag: a pacer p99 lateness above this, and above
	// behindShare of the cell's corrected p99, means the generator did not
	// keep its schedule closely enough for the latency to be the system's.
	behindLag   = time.Millisecond
	behindShare = 0.1
	// saturatedQueue: calls waiting this long for a free worker mean the
	// system did not keep up.
	saturatedQueue = time.Millisecond
	// heldFraction: a sweep step holds only if it achieved this much of
	// its target rate.
	heldFraction = 0.95
)

// server is the running server of one repetition.
type server interface {
	Addr() string
	// Stats returns the server's own counters, or nil if it shares this
	// process.
	Stats() (*admin.Stats, error)
	GC() error
	Stop() error
}

// runRep runs one repetition of c.
func (r *runner) runRep(ctx context.Context, c *results.Cell, rep int) *results.Rep {
	p := c.Params
	if r.onFleet(p) {
		return r.fleetRep(ctx, p, rep)
	}
	rr := &results.Rep{Rep: rep}
	fail := func(err error) *results.Rep {
		rr.Status, rr.Error = results.StatusFailed, err.Error()
		return rr
	}
	var (
		tgt   target.Target
		srv   server
		relay netem.Relay
		err   error
	)
	stop := func() error {
		if relay != nil {
			st := relay.Stats()
			rr.Relay = &st
			relay.Close()
		}
		if srv != nil {
			return srv.Stop()
		}
		return nil
	}
	// dialAddr is where the client connects: the server (at addr), or a
	// relay in front of it when the cell has a network profile.
	relayTo := func(network, addr string) (string, error) {
		if p.Profile == nil {
			return addr, nil
		}
		relay, err = netem.Listen(network, netem.Config{Target: addr, Profile: *p.Profile, Seed: uint64(r.sp.Seed)*1000 + uint64(rep) + 1})
		if err != nil {
			return "", fmt.Errorf("network profile %s: %w", p.Profile.Name, err)
		}
		return relay.Addr(), nil
	}
	dialAddr := func(network string) (string, error) { return relayTo(network, srv.Addr()) }
	switch peer, isPeer := r.opts.Peers(p.Transport.Name); {
	case p.Target != "":
		// An external target: no server to start; the relay, if any, goes
		// in front of the target's own address.
		et := r.targets[p.Target]
		if et == nil {
			return fail(fmt.Errorf("target %s was not opened", p.Target))
		}
		addr, err := relayTo(et.Network(), et.Addr())
		if err != nil {
			return fail(err)
		}
		if addr != et.Addr() {
			et = et.Via(addr)
		}
		tgt = et
		defer markServerUnknown(rr)
	case p.Transport.Name == spec.NoopTransport:
		tgt = target.Noop{}
	case isPeer:
		addr := ""
		if peer.Serve != nil {
			// A peer takes no transport options: its server is the
			// bench-server subcommand given the peer's name.
			if srv, err = r.startProcess(BenchServerArgs(p.Transport, "127.0.0.1:0"), ""); err != nil {
				return fail(err)
			}
			if addr, err = dialAddr(cmp.Or(peer.Network, "tcp")); err != nil {
				stop()
				return fail(err)
			}
		}
		if tgt, err = peer.NewTarget(target.PeerConfig{Addr: addr, Codec: p.Codec, Compression: p.Compression, Payload: p.Payload, Seed: r.sp.Seed}); err != nil {
			stop()
			return fail(err)
		}
	default:
		o := p.Transport.Options()
		o.TLSConf = r.opts.ServerTLS
		t, err := transports.New(p.Transport.Name, o)
		if err != nil {
			return fail(err)
		}
		if srv, err = r.startServer(t, p); err != nil {
			return fail(err)
		}
		addr, err := dialAddr(transports.Network(t))
		if err != nil {
			stop()
			return fail(err)
		}
		msg, err := r.sp.ProtoPayload(p.Payload)
		if err != nil {
			stop()
			return fail(err)
		}
		if tgt, err = rpctarget.New(rpctarget.Config{Transport: t, Addr: addr, Codec: p.Codec, Compression: p.Compression, Payload: p.Payload, Message: msg, Seed: r.sp.Seed}); err != nil {
			stop()
			return fail(err)
		}
	}
	err = func() error {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var conns []target.Conn
		defer func() {
			for _, cn := range conns {
				cn.Close()
			}
		}()
		for i := 0; i < p.Connections; i++ {
			cn, err := tgt.Dial(dctx)
			if err != nil {
				return fmt.Errorf("dial connection %d: %w", i+1, err)
			}
			conns = append(conns, cn)
		}
		if v, ok := tgt.(target.Verifier); ok {
			if err := v.Verify(dctx, conns[0]); err != nil {
				return err
			}
		}
		switch p.Load.Kind {
		case "sweep":
			sw, probe, err := r.sweep(ctx, conns, srv, p)
			rr.Sweep, rr.Figures = sw, probe
			return err
		case spec.PacerLoad:
			sw, top, err := r.pacerSteps(ctx, conns, p)
			rr.Sweep, rr.Figures = sw, top
			return err
		}
		if r.shareOnly {
			srv = nil // the coordinator reads the server's costs
		}
		f, err := r.measureSeries(ctx, conns, srv, r.loadOptions(p, true), r.loadOptions(p, false))
		rr.Figures = f
		return err
	}()
	if serr := stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return fail(err)
	}
	rr.Status = StatusOf(rr.Figures)
	if rr.Sweep != nil && p.Load.Kind == "sweep" {
		for _, s := range rr.Sweep.Steps {
			// A re-run does not hide the errors of the first try.
			if s.Figures.Errors > 0 || s.FirstTry != nil && s.FirstTry.Figures.Errors > 0 {
				rr.Status = results.StatusErrors
			}
		}
	}
	return rr
}

// loadOptions builds the warm-up or measured window of a closed or open
// cell.
func (r *runner) loadOptions(p spec.Cell, warmup bool) load.Options {
	o := load.Options{Workers: p.Concurrency, Grace: r.sp.Grace.D(), Seed: r.sp.Seed}
	if p.Load.Kind == "open" {
		o.Open, o.Rate, o.Poisson = true, p.Load.Rate, p.Load.Poisson
	}
	if warmup {
		o.Duration, o.Calls = r.sp.Warmup.D(), r.sp.WarmupCalls
	} else {
		o.Duration, o.Calls = r.sp.Duration.D(), r.sp.Calls
	}
	return o
}

// measure runs a warm-up, then one measured window between two cost
// snapshots of each side. Both sides are idle when the snapshots are taken
// (the warm-up has drained), so the deltas cover exactly the window's
// calls: wire bytes per call are exact, not estimates.
func (r *runner) measure(ctx context.Context, conns []target.Conn, srv server, warm, main load.Options) (*results.Figures, error) {
	if warm.Duration > 0 || warm.Calls > 0 {
		if _, err := load.Run(ctx, conns, warm); err != nil {
			return nil, err
		}
	}
	var before, after *admin.Stats
	var err error
	if srv != nil {
		if err := srv.GC(); err != nil {
			return nil, err
		}
		if before, err = srv.Stats(); err != nil {
			return nil, err
		}
	}
	// The client snapshots are taken by the engine's hooks: after it has
	// allocated its workers and histograms, before the first call, and
	// right after the last one, so the window holds only the calls. The
	// barrier waits there too, all set up, so that processes started at
	// one instant begin their calls together.
	var c0, c1 cost.Snapshot
	var started time.Time
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var barrierErr error
	main.Started = func() {
		runtime.GC()
		cost.ResetPeakRSS()
		if r.opts.Barrier != nil {
			if barrierErr = r.opts.Barrier(ctx); barrierErr != nil {
				cancel() // the workers return at once
			}
		}
		c0 = cost.Take()
		started = time.Now()
	}
	main.Stopped = func() { c1 = cost.Take() }
	res, err := load.Run(lctx, conns, main)
	if barrierErr != nil {
		return nil, barrierErr
	}
	if err != nil {
		return nil, err
	}
	if srv != nil {
		if after, err = srv.Stats(); err != nil {
			return nil, err
		}
	}
	f, err := figures(res, c1.Sub(c0), before, after)
	if err != nil {
		return nil, err
	}
	f.StartedUnixNs = started.UnixNano()
	if srv != nil && before == nil {
		// In process: the server's counters are in this process too. Its
		// last replies may be counted just after the client saw them, so
		// read them once the server has settled.
		f.PerCall.Combined = true
		time.Sleep(5 * time.Millisecond)
		w := wirestats.Take().Sub(c0.Wire)
		if f.Calls > 0 {
			f.PerCall.ServerWireIn = float64(w.ServerIn) / float64(f.Calls)
			f.PerCall.ServerWireOut = float64(w.ServerOut) / float64(f.Calls)
		}
	}
	return f, nil
}

// figures turns a load result and cost deltas into the recorded figures.
func figures(res *load.Result, client cost.Delta, sBefore, sAfter *admin.Stats) (*results.Figures, error) {
	rec := res.Rec
	f := &results.Figures{
		Calls: res.Calls, OK: rec.Latency.Count(), Errors: rec.ErrorCount(),
		ErrorsByCode: rec.Errors, ErrorSamples: rec.FirstError,
		ElapsedNs: int64(res.Elapsed), Latency: rec.Latency.Summary(), Client: client,
	}
	if res.Elapsed > 0 {
		f.Throughput = float64(f.OK) / res.Elapsed.Seconds()
	}
	var err error
	if f.Hist, err = rec.Latency.Encode(); err != nil {
		return nil, err
	}
	if rec.Uncorrected != nil {
		s := rec.Uncorrected.Summary()
		f.Uncorrected = &s
		if f.UncorrectedHist, err = rec.Uncorrected.Encode(); err != nil {
			return nil, err
		}
	}
	if rec.ErrLatency != nil {
		s := rec.ErrLatency.Summary()
		f.ErrorLatency = &s
		if f.ErrorHist, err = rec.ErrLatency.Encode(); err != nil {
			return nil, err
		}
	}
	if o := res.Open; o != nil {
		fo := results.NewOpen(o, f.Throughput)
		fo.Saturated = o.Blocked > 0 || time.Duration(fo.QueueP99Ns) > saturatedQueue
		var why []string
		if o.Unsent > 0 {
			why = append(why, fmt.Sprintf("%d scheduled calls never sent", o.Unsent))
		}
		if time.Duration(fo.PacerLagP99Ns) > behindLag && float64(fo.PacerLagP99Ns) > behindShare*float64(f.Latency.P99) {
			why = append(why, fmt.Sprintf("pacer p99 lateness %v > %v", time.Duration(fo.PacerLagP99Ns), behindLag))
		}
		if !fo.Saturated && fo.AchievedRate < heldFraction*fo.TargetRate && f.Errors == 0 {
			why = append(why, fmt.Sprintf("achieved %.0f of %.0f calls/s without saturation", fo.AchievedRate, fo.TargetRate))
		}
		if len(why) > 0 {
			fo.Behind = true
			fo.Note = "generator behind schedule: " + join(why)
		} else if fo.Saturated {
			fo.Note = fmt.Sprintf("saturated: calls waited for a free worker (queue p99 %v); corrected latency includes the wait", time.Duration(fo.QueueP99Ns))
		}
		f.Open = fo
	}
	if sBefore != nil && sAfter != nil {
		d := sAfter.Snapshot.Sub(sBefore.Snapshot)
		f.Server = &d
	}
	f.SetPerCall()
	return f, nil
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// startServer starts the cell's server, as a process or in this one, or
// finds it on the remote server.
func (r *runner) startServer(t rpcbench.Transport, p spec.Cell) (server, error) {
	if r.remote != nil {
		return r.remoteServer(p)
	}
	ts := p.Transport
	addr := "127.0.0.1:0"
	var sock string
	if ts.Name == "unix" {
		r.sockets++
		sock = filepath.Join(os.TempDir(), fmt.Sprintf("rpcbench-%d-%d.sock", os.Getpid(), r.sockets))
		os.Remove(sock)
		addr = sock
	}
	if transports.Brokered(ts.Name) {
		var err error
		if addr, err = r.brokerListenAddr(ts.Name); err != nil {
			return nil, err
		}
	}
	msg, err := r.sp.ProtoPayload(p.Payload)
	if err != nil {
		return nil, err
	}
	if r.sp.Server == "inprocess" {
		return startInProcess(t, addr, sock, ts.Workers, msg)
	}
	args := r.opts.ServerArgs(ts, addr)
	if msg != nil {
		more, err := r.echoArgs(msg)
		if err != nil {
			return nil, err
		}
		args = append(args, more...)
	}
	srv, err := r.startProcess(args, sock, injectEnv(ts.Name)...)
	if err == nil && ts.Name == "amqp" && r.rabbit != nil {
		srv = withBroker{srv, r.rabbit}
	}
	return srv, err
}

// startProcess starts the server binary with args and env, pinned to the
// server's CPUs; sock is a socket file to remove when it stops.
func (r *runner) startProcess(args []string, sock string, env ...string) (server, error) {
	p, err := serverproc.Start(serverproc.Options{Binary: r.opts.ServerBinary, Args: args, CPUs: r.serverCPUs, Env: env})
	if err != nil {
		return nil, err
	}
	return &procServer{p: p, sock: sock, r: r}, nil
}

type procServer struct {
	p    *serverproc.Proc
	sock string
	r    *runner
}

func (s *procServer) Addr() string { return s.p.Addr }
func (s *procServer) GC() error    { return s.p.GC() }
func (s *procServer) Stats() (*admin.Stats, error) {
	st, err := s.p.Stats()
	if err == nil {
		s.r.noteServer(st)
	}
	return st, err
}

// noteServer records where the server process says it runs.
func (r *runner) noteServer(st *admin.Stats) {
	if len(st.CPUs) > 0 {
		r.run.Manifest.Pinning.ServerCPUsSeen = cost.FormatCPUs(st.CPUs)
		r.run.Manifest.Pinning.ServerGOMAXPROCS = st.GOMAXPROCS
	}
}
func (s *procServer) Stop() error {
	err := s.p.Stop(10 * time.Second)
	if s.sock != "" {
		os.Remove(s.sock)
	}
	return err
}

// inProcServer shares this process: its costs cannot be told from the
// client's, so Stats returns nil.
type inProcServer struct {
	srv  *rpcbench.Server
	addr string
	sock string
	done chan error
}

func startInProcess(t rpcbench.Transport, addr, sock string, workers bool, msg *protopayload.Message) (server, error) {
	faulty, err := faults.FromEnv()
	if err != nil {
		return nil, err
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}, NoInline: workers})
	faulty.Attach(srv)
	if err := services.Register(srv); err != nil {
		return nil, err
	}
	if msg != nil {
		if err := protoecho.Register(srv, msg.Desc); err != nil {
			return nil, err
		}
	}
	l, err := t.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s on %s: %w", t.Name(), addr, err)
	}
	s := &inProcServer{srv: srv, addr: l.Addr().String(), sock: sock, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(l) }()
	return s, nil
}

func (s *inProcServer) Addr() string                 { return s.addr }
func (s *inProcServer) Stats() (*admin.Stats, error) { return nil, nil }
func (s *inProcServer) GC() error                    { return nil }
func (s *inProcServer) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if s.sock != "" {
		os.Remove(s.sock)
	}
	if errors.Is(err, rpcbench.ErrServerClosed) {
		err = nil
	}
	return err
}
