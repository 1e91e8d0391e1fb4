package runner

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"rpcbench/harness/load"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/internal/plural"
	"rpcbench/target"
)

// pacerHalvings is how many times the pacer cell halves its rate looking
// for one its pacer keeps.
const pacerHalvings = 3

// sweepRate is one step's target: calls per second and the spec's rate it
// came from.
type sweepRate struct {
	perSec float64
	spec   string
}

// sweepRates turns the spec's rates into calls per second given the
// probe's capacity, rising, without duplicates.
func sweepRates(rates []string, capacity float64) []sweepRate {
	var out []sweepRate
	for _, s := range rates {
		v, pct, _ := spec.ParseRate(s)
		if pct {
			v = v / 100 * capacity
		}
		if v >= 1 {
			out = append(out, sweepRate{math.Round(v), s})
		}
	}
	slices.SortStableFunc(out, func(a, b sweepRate) int { return cmp.Compare(a.perSec, b.perSec) })
	return slices.CompactFunc(out, func(a, b sweepRate) bool { return a.perSec == b.perSec })
}

// sweep probes the cell's closed-loop throughput, then runs open-loop
// steps at rising rates until StopAfter consecutive steps fail to hold. A
// step that fails is run again at once and counts only if it fails again.
func (r *runner) sweep(ctx context.Context, conns []target.Conn, srv server, p spec.Cell) (*results.Sweep, *results.Figures, error) {
	sw := r.sp.Sweep
	probeOpts := load.Options{Workers: p.Concurrency, Grace: r.sp.Grace.D(), Duration: sw.Probe.D()}
	warm := probeOpts
	warm.Duration = sw.StepWarmup.D()
	probe, err := r.measure(ctx, conns, srv, warm, probeOpts)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep probe: %w", err)
	}
	out := &results.Sweep{CapacityRate: probe.Throughput, P99BoundNs: int64(sw.P99Bound.D())}
	failed := 0
	for _, rate := range sweepRates(sw.Rates, probe.Throughput) {
		st, err := r.sweepStep(ctx, conns, srv, p, rate)
		if err == nil && !st.Held {
			first := st
			if st, err = r.sweepStep(ctx, conns, srv, p, rate); st != nil {
				st.FirstTry = first
			}
		}
		if err != nil {
			return out, probe, fmt.Errorf("sweep step %.0f/s: %w", rate.perSec, err)
		}
		out.Steps = append(out.Steps, st)
		if st.Held {
			failed = 0
		} else if failed++; failed >= sw.StopAfter {
			break
		}
		if ctx.Err() != nil {
			return out, probe, ctx.Err()
		}
	}
	out.SustainedRate, out.NonMonotonic = results.Sustained(out.Steps)
	return out, probe, nil
}

// sweepStep runs one open-loop step at rate and judges it.
func (r *runner) sweepStep(ctx context.Context, conns []target.Conn, srv server, p spec.Cell, rate sweepRate) (*results.Step, error) {
	sw := r.sp.Sweep
	o := load.Options{Workers: p.Concurrency, Open: true, Rate: rate.perSec, Poisson: sw.Arrival == "poisson",
		Seed: r.sp.Seed, Grace: r.sp.Grace.D(), Duration: sw.StepDuration.D()}
	w := o
	w.Duration = sw.StepWarmup.D()
	r.topRate = max(r.topRate, rate.perSec)
	f, err := r.measure(ctx, conns, srv, w, o)
	if err != nil {
		return nil, err
	}
	st := &results.Step{Rate: rate.spec, TargetRate: rate.perSec, Figures: f}
	switch {
	case f.Errors > 0:
		st.Reason = plural.Count(int(f.Errors), "error")
	case f.Open.Behind:
		st.Reason = f.Open.Note
	case f.Latency.P99 > int64(sw.P99Bound.D()):
		st.Reason = fmt.Sprintf("p99 %v over the bound %v", time.Duration(f.Latency.P99), sw.P99Bound.D())
	case f.Throughput < heldFraction*rate.perSec:
		st.Reason = fmt.Sprintf("achieved %.0f of %.0f calls/s", f.Throughput, rate.perSec)
	default:
		st.Held = true
	}
	return st, nil
}

// pacerSteps drives the no-op target open loop at the highest rate any
// open-loop window of the run has reached so far, then at halved rates
// until the pacer's lag p99 stays under results.PacerLimit. The figures
// at the top rate are the repetition's.
func (r *runner) pacerSteps(ctx context.Context, conns []target.Conn, p spec.Cell) (*results.Sweep, *results.Figures, error) {
	if r.topRate < 1 {
		return nil, nil, fmt.Errorf("no open-loop window has run yet, so there is no rate to check the pacer at")
	}
	out := &results.Sweep{}
	rate := r.topRate
	for i := 0; i <= pacerHalvings; i++ {
		o := load.Options{Workers: p.Concurrency, Open: true, Rate: math.Round(rate), Seed: r.sp.Seed, Grace: r.sp.Grace.D()}
		w := o
		o.Duration, w.Duration = r.sp.Sweep.StepDuration.D(), r.sp.Sweep.StepWarmup.D()
		f, err := r.measure(ctx, conns, nil, w, o)
		if err != nil {
			return out, nil, err
		}
		st := &results.Step{Rate: fmt.Sprintf("top/%d", 1<<i), TargetRate: o.Rate, Figures: f,
			Held: time.Duration(f.Open.PacerLagP99Ns) < results.PacerLimit}
		if !st.Held {
			st.Reason = fmt.Sprintf("pacer lag p99 %v ≥ %v", time.Duration(f.Open.PacerLagP99Ns), results.PacerLimit)
		}
		out.Steps = append(out.Steps, st)
		if st.Held {
			break
		}
		rate /= 2
	}
	top := out.Steps[0].Figures
	// Only the last (lowest) step can have held; steps are kept rising.
	slices.Reverse(out.Steps)
	if out.Steps[0].Held {
		out.SustainedRate = out.Steps[0].TargetRate
	}
	return out, top, nil
}

// pacerCeiling judges the pacer cell against the run's highest open-loop
// rate; nil when the run has no pacer cell that ran.
func pacerCeiling(run *results.Run) *results.PacerCeiling {
	var pacer *results.Cell
	top := 0.0
	for _, c := range run.Cells {
		if !c.Ran() {
			continue
		}
		switch c.Params.Load.Kind {
		case spec.PacerLoad:
			pacer = c
		case "open":
			top = max(top, c.Params.Load.Rate)
		case "sweep":
			for _, rr := range c.Reps {
				if rr.Sweep == nil {
					continue
				}
				for _, st := range rr.Sweep.Steps {
					top = max(top, st.TargetRate)
				}
			}
		}
	}
	if pacer == nil {
		return nil
	}
	var lags, held, lowest, lowLags []float64
	for _, rr := range pacer.Reps {
		if rr.Sweep == nil || rr.Figures == nil || rr.Figures.Open == nil {
			continue
		}
		lags = append(lags, float64(rr.Figures.Open.PacerLagP99Ns))
		held = append(held, rr.Sweep.SustainedRate)
		if st := rr.Sweep.Steps; len(st) > 0 && st[0].Figures != nil && st[0].Figures.Open != nil {
			lowest = append(lowest, st[0].TargetRate) // steps rise
			lowLags = append(lowLags, float64(st[0].Figures.Open.PacerLagP99Ns))
		}
	}
	if len(lags) == 0 {
		return nil
	}
	p := &results.PacerCeiling{Key: pacer.Key, TopRate: top, LagP99Ns: int64(stat(lags).Median),
		LimitNs: int64(results.PacerLimit), HeldRate: stat(held).Median}
	if len(lowest) > 0 {
		p.LowestRate, p.LowLagP99Ns = stat(lowest).Median, int64(stat(lowLags).Median)
	}
	p.Explain()
	return p
}
