package compare

import (
	"fmt"
	"slices"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// A timing regression on a shared, noisy machine can be a burst of
// someone else's load that happened to hit one cell's repetitions more
// than its reference's: the U test assumes both runs drew from the same
// spread, and a busier machine widens it. Deterministic metrics need no
// second look; timing regressions get one. The gate re-runs the regressed
// cells beside their references (ConfirmSpec) and a regression stands only
// if, in every re-run, the median ratio again moves by at least the
// minimum effect, and the first run's and the re-runs' repetitions pooled
// still differ significantly from the baseline's. A real regression
// reproduces; a burst of load does not strike the same cell and metric
// twice.

// ToConfirm lists the cells with timing regressions, each followed by its
// reference, for a confirmation run.
func (g *GateResult) ToConfirm() []string {
	var keys []string
	for _, c := range g.Checks {
		if c.Verdict == Regressed && c.Metric.Kind == Timing && c.Ratio {
			for _, k := range []string{c.Key, c.NewRef} {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	return keys
}

// Confirm judges the timing regressions again with a confirmation run of
// their cells (one with the cells ToConfirm lists, run like the new run).
// Those not reproduced become Unconfirmed. Call it once per re-run.
func (g *GateResult) Confirm(run *results.Run) {
	for _, c := range g.Checks {
		if c.Verdict != Regressed || c.Metric.Kind != Timing || !c.Ratio {
			continue
		}
		cell, ref := run.Cell(c.Key), run.Cell(c.NewRef)
		var s Sample
		if cell != nil && ref != nil {
			s = ratioSample(cell, ref, c.Metric)
		}
		if s.Len() == 0 {
			g.Problems = append(g.Problems, fmt.Sprintf("%s %s: the confirmation run %s has no figures for the cell or its reference; the regression stands unconfirmed", c.Key, c.Metric.Name, run.RunID))
			continue
		}
		c.Confirms = append(c.Confirms, s)
		pooled := slices.Clone(c.New.Values)
		for _, cs := range c.Confirms {
			pooled = append(pooled, cs.Values...)
		}
		c.PooledP, _ = UTest(c.Old.Values, pooled, g.Alpha)
		if c.worseRel(s.Median()) < c.Allowed || c.PooledP >= g.Alpha {
			c.Verdict = Unconfirmed
		}
	}
}

// worseRel is how much worse a median ratio m is than the baseline's, as
// a fraction.
func (c *Check) worseRel(m float64) float64 {
	d := m/c.OldMedian - 1
	if c.Metric.Better == HigherIsBetter {
		return -d
	}
	return d
}

// ConfirmSpec is the spec of a confirmation run: the new run's settings
// (repetitions, windows, pinning, server mode) for the given cells only,
// each cell in a group of its own, in order.
func ConfirmSpec(run *results.Run, keys []string) (*spec.Spec, error) {
	if run.Manifest.Spec == nil {
		return nil, fmt.Errorf("compare: run %s records no spec to re-run", run.RunID)
	}
	sp := *run.Manifest.Spec
	sp.Name = sp.Name + "-confirm"
	f := false
	sp.GeneratorCeiling = &f
	sp.Dimensions, sp.Excludes, sp.Groups, sp.Reference = nil, nil, nil, ""
	for i, k := range keys {
		c := run.Cell(k)
		if c == nil {
			return nil, fmt.Errorf("compare: run %s has no cell %s", run.RunID, k)
		}
		p := c.Params
		d := spec.Dimensions{
			Transport: []string{p.Transport.String()}, Codec: []string{p.Codec}, Compression: []string{p.Compression},
			Payload: []string{p.Payload}, Concurrency: []int{p.Concurrency}, Connections: []int{p.Connections},
			Load: []string{p.Load.String()}, Profile: []string{p.ProfileName()},
		}
		if p.Target != "" {
			// The recorded spec's targets map describes the target.
			d.Transport, d.Codec, d.Compression, d.Payload, d.Target = nil, nil, nil, nil, []string{p.Target}
		}
		sp.Groups = append(sp.Groups, spec.Group{Name: fmt.Sprintf("confirm%d", i+1), Dimensions: d})
	}
	plan, err := sp.Expand()
	if err != nil {
		return nil, err
	}
	for i, c := range plan.Cells {
		if c.Key != keys[i] {
			return nil, fmt.Errorf("compare: re-running %s would run %s", keys[i], c.Key)
		}
	}
	return &sp, nil
}
