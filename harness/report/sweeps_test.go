package report

import (
	"bytes"
	"html"
	"strings"
	"testing"

	"rpcbench/harness/record"
	"rpcbench/harness/report/peerreport"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// sweepRun is a run with a tcp sweep and its limit's: the tcp sweep's
// 5% step fails twice in its first repetition while 10% holds (a
// non-monotonic curve), and the pacer was shown to keep only 15000
// calls/s.
func sweepRun(t *testing.T) *results.Run {
	t.Helper()
	sp, err := spec.Parse([]byte("name: sw\nrepetitions: 2\ndimensions:\n  transport: [tcp, raw-tcp-pipelined]\n  codec: [proto]\n  concurrency: [64]\n  load: [sweep]\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{Manifest: results.Manifest{SpecName: "sw", Spec: sp}}
	fig := func(rate float64, p99 int64) *results.Figures {
		h, u := record.New(), record.New()
		for i := 0; i < 1000; i++ {
			v := int64(50e3)
			if i >= 985 {
				v = p99
			}
			h.Record(v)
			u.Record(v / 2)
		}
		f := &results.Figures{Throughput: rate, Latency: h.Summary(), Open: &results.Open{TargetRate: rate}}
		// The load process: 0.2 s of CPU per 0.25 s window, 1000 calls.
		f.Client.CPUUserNs, f.Client.CPUSysNs, f.Client.WallNs = 50e6, 150e6, 250e6
		f.PerCall.ClientCPUNs = 200e3
		s := u.Summary()
		f.Uncorrected = &s
		f.Hist, _ = h.Encode()
		f.UncorrectedHist, _ = u.Encode()
		return f
	}
	step := func(rate string, target float64, p99 int64, held bool) *results.Step {
		st := &results.Step{Rate: rate, TargetRate: target, Held: held, Figures: fig(target*0.99, p99)}
		if !held {
			st.Reason = "p99 over the bound"
			st.FirstTry = &results.Step{Rate: rate, TargetRate: target, Reason: "p99 over the bound", Figures: fig(target*0.99, 2*p99)}
		}
		return st
	}
	for i, pc := range plan.Cells {
		c := &results.Cell{Key: pc.Key, Group: "sweeps", Params: pc, Status: results.StatusOK}
		c.Params.Group = "sweeps"
		for rep := 0; rep < 2; rep++ {
			sw := &results.Sweep{CapacityRate: 200000, P99BoundNs: 5e6}
			first := int64(1e6)
			if i == 0 && rep == 0 {
				first = 9e6 // fails
			}
			sw.Steps = []*results.Step{step("5%", 10000, first, first < 5e6), step("10%", 20000, 2e6, true), step("110%", 220000, 30e6, false)}
			if i == 1 && rep == 1 {
				// The limit's 5% step held only on its re-run.
				sw.Steps[0].FirstTry = &results.Step{Rate: "5%", TargetRate: 10000, Reason: "p99 7ms over the bound", Figures: fig(9900, 7e6)}
			}
			sw.SustainedRate, sw.NonMonotonic = results.Sustained(sw.Steps)
			c.Reps = append(c.Reps, &results.Rep{Rep: rep, Status: results.StatusOK, Figures: fig(200000, 1e6), Sweep: sw})
		}
		mergeForTest(c)
		run.Cells = append(run.Cells, c)
	}
	run.Manifest.PacerCeiling = &results.PacerCeiling{Key: "pacer", TopRate: 220000, LagP99Ns: 80e3, LimitNs: int64(results.PacerLimit), HeldRate: 15000}
	run.Manifest.PacerCeiling.Explain()
	return run
}

// Both reports show every step's corrected and uncorrected p99, achieved
// rate and outcome, re-runs, the non-monotonic curve with its meaning,
// the steps above the pacer's ceiling, and tcp beside its limit.
func TestSweepsShownAlike(t *testing.T) {
	run := sweepRun(t)
	var md, ht bytes.Buffer
	if err := Markdown(&md, run); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&ht, run); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(ht.String())
	rows := sweepSteps(run.Cells[0], run.Manifest.PacerCeiling)
	if len(rows) != 3 || rows[0].rate != "5%" || rows[0].runs != 2 || rows[0].held != 1 || rows[0].rerun != 1 || rows[0].saved != 0 || !rows[1].suspect || rows[0].suspect {
		t.Fatalf("tcp steps %+v", rows)
	}
	want := []string{
		"tcp beside raw-tcp-pipelined",
		"⚠ non-monotonic — rep 1: 10.0k failed below a held step",
		results.NonMonotonicMeaning,
		"✗ mixed: 1 of 2 (1 re-run, 0 of them held)",
		"✗ failed: 0 of 2 (2 re-run, 0 of them held) ⚠ above the pacer's ceiling",
		"held: 2 of 2",
		"held: 2 of 2 (1 re-run, 1 of them held)",
		"5%: held on its re-run; the first try failed: p99 7ms over the bound",
		"fails only if the re-run fails too",
		"it kept its schedule only up to 15.0k calls/s",
		"load CPU busy (per call)", "80% (200.0µs)", "at a low rate nothing batches",
	}
	for _, r := range rows {
		want = append(want, results.FormatNs(float64(r.p99)), results.FormatNs(float64(r.uncP99)), results.FormatRate(r.achieved))
	}
	for _, w := range want {
		if !strings.Contains(md.String(), w) {
			t.Errorf("report.md lacks %q", w)
		}
		if !strings.Contains(page, w) {
			t.Errorf("report.html lacks %q", w)
		}
	}
	if n := strings.Count(ht.String(), `<svg class="chart"`); n != 1 {
		t.Errorf("%d sweep charts, want 1 (tcp beside its limit)", n)
	}
	for _, w := range []string{"NON-MONOTONIC", "PACER"} {
		if !strings.Contains(md.String(), w) || !strings.Contains(page, w) {
			t.Errorf("problems lack %s", w)
		}
	}
}

// In the default spec every rpcbench transport has a sweep, and each
// stands beside its limit's sweep in the report.
func TestDefaultSpecSweepsBesideLimits(t *testing.T) {
	sp, _, err := spec.ReadFile("../../specs/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{}
	for _, c := range plan.Cells {
		if c.Load.Kind == "sweep" {
			run.Cells = append(run.Cells, &results.Cell{Key: c.Key, Group: c.Group, Params: c, Merged: &results.Merged{Reps: 1}})
		}
	}
	gs := groups(run, true)
	if len(gs) != 1 {
		t.Fatalf("%d sweep groups", len(gs))
	}
	swept := map[string]bool{}
	for _, p := range sweepPairs(gs[0], nil) {
		first := p.Cells[0].Params.Transport
		if isPeerCell(p.Cells[0]) {
			t.Errorf("%s stands alone: no rpcbench sweep beside it", first)
			continue
		}
		swept[first.String()] = true
		if limit := peerreport.LimitFor(first, p.Cells[0].Params.Concurrency).Limit; len(p.Cells) < 2 || p.Cells[1].Params.Transport.Name != limit {
			t.Errorf("%s: beside %v, want its limit %s", first, p.Title, limit)
		}
	}
	for _, tr := range []string{"tcp", "unix", "udp", "http1", "quic", "quic+mux"} {
		if !swept[tr] {
			t.Errorf("no sweep of %s", tr)
		}
	}
}
