package runner

import (
	"context"
	"fmt"
	"time"

	"rpcbench/harness/results"
	"rpcbench/targets"
)

// targetOpenTimeout bounds the opening of one external target: loading
// its descriptors (by reflection too), checking its data, one call.
const targetOpenTimeout = 10 * time.Second

// ServerUnknown is why an external target's cells have no server figures.
const ServerUnknown = "external target: the server's CPU, allocations and memory are not measured"

// openTargets opens every external target a cell uses, once, before any
// cell runs: a target that cannot be reached or whose data does not fit
// fails the run at once, with one line, instead of every repetition of
// every cell. Their settings go into the manifest.
func (r *runner) openTargets(ctx context.Context) error {
	for _, c := range r.run.Cells {
		name := c.Params.Target
		if name == "" || c.Status == results.StatusSkipped || r.targets[name] != nil {
			continue
		}
		octx, cancel := context.WithTimeout(ctx, targetOpenTimeout)
		t, err := targets.Open(octx, r.sp.Targets[name])
		cancel()
		if err != nil {
			return fmt.Errorf("target %s: %w", name, err)
		}
		if r.targets == nil {
			r.targets = map[string]targets.Target{}
			r.run.Manifest.Targets = map[string]map[string]string{}
		}
		r.targets[name] = t
		r.run.Manifest.Targets[name] = t.Settings()
	}
	return nil
}

// markServerUnknown records, in every figure of an external target's
// repetition, that the server side was not measured.
func markServerUnknown(rr *results.Rep) {
	if rr.Figures != nil {
		rr.Figures.PerCall.ServerUnknown = ServerUnknown
	}
	if rr.Sweep != nil {
		for _, s := range rr.Sweep.Steps {
			s.Figures.PerCall.ServerUnknown = ServerUnknown
		}
	}
}
