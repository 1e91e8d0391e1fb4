package runner

import (
	"context"
	"fmt"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/services/admin"
)

// Fleet generates a repetition's load on several worker processes at once
// (package fleet) instead of in this one. The runner calls RunRep from one
// goroutine at a time.
type Fleet interface {
	// RunRep runs repetition rep of cell p on the workers and returns it
	// with the workers' figures merged (their own in Figures.Loads), or
	// failed, or degraded. armed is called once every worker has warmed
	// up and waits for the start, before any window begins: the runner
	// reads the server's costs there and after RunRep returns. An error
	// from armed fails the repetition.
	RunRep(ctx context.Context, p spec.Cell, rep int, armed func() error) *results.Rep
	// Manifest describes the workers, for the run's manifest.
	Manifest() *results.Fleet
}

// FleetSkip is why a cell does not run on a fleet, or "".
func FleetSkip(p spec.Cell) string {
	switch {
	case p.Load.Kind == "sweep":
		return "sweeps are not run by a fleet of workers: each step's rate would have to be agreed between them"
	case p.Target != "":
		return "external targets are not run by a fleet of workers"
	}
	return ""
}

// onFleet reports whether c's load runs on the fleet: the cells of the
// generator's own ceilings run in this process.
func (r *runner) onFleet(p spec.Cell) bool {
	return r.opts.Fleet != nil && p.Transport.Name != spec.NoopTransport && p.Load.Kind != spec.PacerLoad
}

// fleetRep runs a repetition on the fleet and adds the server's costs,
// read around every worker's window.
func (r *runner) fleetRep(ctx context.Context, p spec.Cell, rep int) *results.Rep {
	srv, err := r.remoteServer(p)
	if err != nil {
		return &results.Rep{Rep: rep, Status: results.StatusFailed, Error: err.Error()}
	}
	var before *admin.Stats
	rr := r.opts.Fleet.RunRep(ctx, p, rep, func() error {
		if err := srv.GC(); err != nil {
			return err
		}
		before, err = srv.Stats()
		return err
	})
	if rr.Figures == nil || before == nil {
		return rr
	}
	after, err := srv.Stats()
	if err != nil {
		rr.Status, rr.Error = results.StatusFailed, fmt.Sprintf("server costs after the window: %v", err)
		return rr
	}
	d := after.Snapshot.Sub(before.Snapshot)
	rr.Figures.Server = &d
	rr.Figures.SetPerCall()
	rr.Status = StatusOf(rr.Figures)
	return rr
}

// Share runs single repetitions for a worker process that generates its
// share of a cell's load while others generate theirs (package fleet):
// against Options.Server, without reading the server's costs (the
// coordinator reads them around every worker's window). Its methods are
// for one goroutine.
type Share struct{ r *runner }

// NewShare connects to Options.Server; opts.Spec gives the warm-up,
// window, grace and seed of every cell.
func NewShare(ctx context.Context, opts Options) (*Share, error) {
	if opts.Server == "" {
		return nil, fmt.Errorf("runner: a share of a fleet's load needs a server (Options.Server)")
	}
	if opts.Peers == nil {
		opts.Peers = defaultPeers
	}
	r := &runner{opts: opts, sp: opts.Spec, run: &results.Run{}, shareOnly: true}
	if err := r.dialRemote(ctx); err != nil {
		return nil, err
	}
	return &Share{r: r}, nil
}

// Run runs repetition rep of p (its concurrency and rate already this
// worker's share): dial, warm up, call barrier, measure one window.
func (s *Share) Run(ctx context.Context, p spec.Cell, rep int, barrier func(context.Context) error) *results.Rep {
	s.r.opts.Barrier = barrier
	defer func() { s.r.opts.Barrier = nil }()
	return s.r.runRep(ctx, &results.Cell{Key: p.Key, Params: p}, rep)
}

// Close ends the connection to the server's admin methods.
func (s *Share) Close() { s.r.remote.Close() }
