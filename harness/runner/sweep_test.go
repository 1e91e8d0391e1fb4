package runner

import (
	"context"
	"slices"
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

func TestSweepRates(t *testing.T) {
	got := sweepRates([]string{"50%", "1000", "5%", "10%", "0.01%"}, 20000)
	want := []sweepRate{{1000, "1000"}, {2000, "10%"}, {10000, "50%"}}
	// 5% of 20000 is also 1000: the first spelling of a rate is kept;
	// 0.01% is 2 calls/s and stays.
	want = append([]sweepRate{{2, "0.01%"}}, want...)
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// sweepSpec is an in-process sweep on TCP with the given bound and rates.
func sweepSpec(t *testing.T, bound string, stopAfter string) *spec.Spec {
	return mustSpec(t, `
name: sweep
server: inprocess
pin: "off"
repetitions: 1
warmup: 20ms
duration: 100ms
sweep:
  rates: ["200", "400", "800"]
  p99_bound: `+bound+`
  step_warmup: 20ms
  step_duration: 100ms
  probe: 100ms
  stop_after: `+stopAfter+`
dimensions:
  transport: [tcp]
  codec: [raw]
  payload: [Bytes(64)]
  concurrency: [4]
  load: [sweep]
`)
}

// runSweep runs sweepSpec and checks that its sweep has steps steps.
func runSweep(t *testing.T, bound, stopAfter string, steps int) (*results.Run, *results.Sweep) {
	t.Helper()
	run, _, err := Run(context.Background(), Options{Spec: sweepSpec(t, bound, stopAfter), NoWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	sw := run.Cells[0].Reps[0].Sweep
	if sw == nil || len(sw.Steps) != steps {
		t.Fatalf("sweep %+v", sw)
	}
	return run, sw
}

// A step that fails is run again before it counts, and both attempts are
// kept: with a bound no call can meet, the first step fails twice and the
// sweep stops there with nothing sustained.
func TestSweepRerunsFailedStep(t *testing.T) {
	_, sw := runSweep(t, "1ns", "1", 1)
	st := sw.Steps[0]
	if st.Held || st.FirstTry == nil || st.FirstTry.Held || st.FirstTry.Figures == nil || st.Figures == st.FirstTry.Figures {
		t.Errorf("step %+v, first try %+v", st, st.FirstTry)
	}
	if st.Rate != "200" || st.TargetRate != 200 || sw.SustainedRate != 0 {
		t.Errorf("rate %q %v, sustained %v", st.Rate, st.TargetRate, sw.SustainedRate)
	}
}

// Steps that hold at once are not re-run and failed ones are; the sustained rate
// is the achieved rate of the last step of the held prefix; the pacer
// cell runs at the highest rate of the sweep and the run's pacer ceiling
// is judged from it. (A loaded machine may make steps fall behind: the
// test checks the rules, not that every step held.)
func TestSweepHeldAndPacerCell(t *testing.T) {
	run, sw := runSweep(t, "10s", "3", 3)
	want := 0.0
	prefix := true
	for _, st := range sw.Steps {
		// Failed: re-run once; a re-run follows only a failed try.
		if (!st.Held && st.FirstTry == nil) || (st.FirstTry != nil && (st.FirstTry.Held || st.FirstTry.FirstTry != nil)) {
			t.Errorf("step %v: held %v (%s), first try %+v", st.TargetRate, st.Held, st.Reason, st.FirstTry)
		}
		if prefix = prefix && st.Held; prefix {
			want = st.Figures.Throughput
		}
	}
	if sw.SustainedRate != want {
		t.Errorf("sustained %v, want %v", sw.SustainedRate, want)
	}
	var pacer *results.Cell
	for _, c := range run.Cells {
		if c.Params.Load.Kind == spec.PacerLoad {
			pacer = c
		}
	}
	if pacer == nil || len(pacer.Reps) != 1 || pacer.Reps[0].Sweep == nil {
		t.Fatalf("pacer cell %+v", pacer)
	}
	ps := pacer.Reps[0].Sweep.Steps
	if top := ps[len(ps)-1]; top.TargetRate != 800 || top.Figures.Open == nil || pacer.Reps[0].Figures != top.Figures {
		t.Errorf("pacer top step %+v", top)
	}
	pc := run.Manifest.PacerCeiling
	if pc == nil || pc.TopRate != 800 || pc.Key != pacer.Key || pc.LimitNs != int64(results.PacerLimit) || pc.Explanation == "" {
		t.Fatalf("pacer ceiling %+v", pc)
	}
	// On a loaded machine the pacer may be late; whichever way, the
	// verdict must agree with the figures.
	if pc.OK != (pc.LagP99Ns < pc.LimitNs) {
		t.Errorf("pacer ceiling %+v", pc)
	}
}

// The pacer cell checks the highest rate of every open-loop window: here
// the sweep's top step and a fixed open cell above it.
func TestPacerCeilingTopRate(t *testing.T) {
	lag := func(ns int64) *results.Figures {
		return &results.Figures{Open: &results.Open{PacerLagP99Ns: ns}}
	}
	run := &results.Run{Cells: []*results.Cell{
		{Status: results.StatusOK, Params: spec.Cell{Load: spec.Load{Kind: "sweep"}}, Merged: &results.Merged{Reps: 1},
			Reps: []*results.Rep{{Sweep: &results.Sweep{Steps: []*results.Step{{TargetRate: 1000}, {TargetRate: 90000}}}}}},
		{Status: results.StatusOK, Params: spec.Cell{Load: spec.Load{Kind: "open", Rate: 120000}}, Merged: &results.Merged{Reps: 1}},
		{Key: "pacer", Status: results.StatusOK, Params: spec.Cell{Load: spec.Load{Kind: spec.PacerLoad}}, Merged: &results.Merged{Reps: 1},
			Reps: []*results.Rep{
				{Figures: lag(80000), Sweep: &results.Sweep{SustainedRate: 30000}},
				{Figures: lag(90000), Sweep: &results.Sweep{SustainedRate: 60000}},
				{Figures: lag(20000), Sweep: &results.Sweep{SustainedRate: 120000}}}},
	}}
	pc := pacerCeiling(run)
	if pc == nil || pc.TopRate != 120000 || pc.LagP99Ns != 80000 || pc.HeldRate != 60000 || pc.OK {
		t.Fatalf("%+v", pc)
	}
	if pc.Suspect(60000) || !pc.Suspect(60001) {
		t.Errorf("suspect at 60000 %v, at 60001 %v", pc.Suspect(60000), pc.Suspect(60001))
	}
	run.Cells[2].Reps[0].Figures = lag(10000)
	run.Cells[2].Reps[1].Figures = lag(10000)
	if pc := pacerCeiling(run); !pc.OK || pc.Suspect(1e9) {
		t.Errorf("%+v", pc)
	}
}
