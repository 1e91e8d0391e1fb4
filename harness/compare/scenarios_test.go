package compare

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

func fault(at time.Duration, action string, instance int, delay time.Duration) spec.Fault {
	f := spec.Fault{At: spec.Duration(at), Action: action, Instance: instance, Delay: spec.Duration(delay)}
	if action == spec.FaultSlow {
		f.Until = spec.Duration(at + 3*time.Second)
	}
	return f
}

// scenarioOf builds a scenario with one run per entry of runs.
func scenarioOf(name string, instances int, faults []spec.Fault, runs ...*results.ScenarioRun) *results.Scenario {
	sc := &results.Scenario{Name: name, Settings: spec.Scenario{Name: name, Instances: instances, Load: "open@2000",
		Duration: spec.Duration(12 * time.Second), Repetitions: 1, Faults: faults}, Runs: runs}
	for _, r := range runs {
		for i := range r.Faults {
			r.Faults[i].Fault = faults[i]
		}
	}
	return sc
}

// scRun is a completed scenario run: issued calls, failed calls, the time
// until error-free again after each fault (ms, -1: never), and the p99
// latency before and during the fault window (µs).
func scRun(balancer, retries string, issued, failed int64, errorFreeMs []int64, p99Before, p99During int64) *results.ScenarioRun {
	r := &results.ScenarioRun{Balancer: balancer, Retries: retries, Status: results.StatusOK, Issued: issued, OK: issued - failed, Failed: failed,
		Before: results.Phase{Latency: record.Summary{P99: p99Before * 1000}},
		During: results.Phase{Latency: record.Summary{P99: p99During * 1000}}}
	for _, ms := range errorFreeMs {
		ns := ms * 1e6
		if ms < 0 {
			ns = -1
		}
		r.Faults = append(r.Faults, results.FaultOutcome{ErrorFreeAfterNs: ns})
	}
	return r
}

func failedRun(balancer, retries, why string) *results.ScenarioRun {
	return &results.ScenarioRun{Balancer: balancer, Retries: retries, Status: results.StatusFailed, Error: why}
}

// scenarioPair builds an old and a new run with scenarios: kill-one in
// both with the same settings (one of its runs only in the old run, one
// only in the new), slow-one in both with a heavier slowdown on more
// instances in the new run (one of its runs failed there), and stop-one
// in the old run only.
func scenarioPair() (old, new *results.Run) {
	kill := []spec.Fault{fault(3*time.Second, spec.FaultKill, 1, 0), fault(6*time.Second, spec.FaultRestart, 1, 0)}
	slow20 := []spec.Fault{fault(3*time.Second, spec.FaultSlow, 2, 20*time.Millisecond)}
	slow50 := []spec.Fault{fault(3*time.Second, spec.FaultSlow, 2, 50*time.Millisecond)}
	stop := []spec.Fault{fault(3*time.Second, spec.FaultStop, 3, 0)}
	old = mkRun("old", 6, 1, core1, ref1)
	old.Scenarios = []*results.Scenario{
		scenarioOf("kill-one", 3, kill,
			scRun("round_robin", "none", 24000, 480, []int64{1500, 0}, 1200, 4500),
			scRun("round_robin", "idempotent", 24000, 0, []int64{0, 0}, 1100, 2000),
			scRun("round_robin", "hedged", 24000, 0, []int64{0, 0}, 1000, 1500)),
		scenarioOf("slow-one", 3, slow20,
			scRun("round_robin", "none", 24000, 0, []int64{0}, 1000, 21000),
			scRun("least_loaded", "none", 24000, 0, []int64{0}, 1000, 3000)),
		scenarioOf("stop-one", 3, stop, scRun("round_robin", "none", 24000, 0, []int64{0}, 1000, 1000)),
	}
	new = mkRun("new", 6, 1, core1, ref1)
	new.Scenarios = []*results.Scenario{
		scenarioOf("slow-one", 4, slow50,
			failedRun("round_robin", "none", "instance i4 would not start"),
			scRun("least_loaded", "none", 24000, 30, []int64{2250}, 950, 2800)),
		scenarioOf("kill-one", 3, kill,
			scRun("round_robin", "none", 24000, 120, []int64{750, -1}, 1200, 3900),
			scRun("round_robin", "idempotent", 24000, 0, []int64{0, 0}, 1100, 1800),
			scRun("p2c", "none", 24000, 12, []int64{250, 0}, 1000, 2500)),
	}
	return old, new
}

var columnGap = regexp.MustCompile(`\s{2,}`)

// textRow finds the row of scenario name whose first cells are
// balancer and retries in the text output, split into its cells.
func textRow(t *testing.T, text, name, balancer, retries string) []string {
	t.Helper()
	_, section, ok := strings.Cut(text, "\nscenario "+name+"\n")
	if !ok {
		t.Fatalf("no scenario %s in:\n%s", name, text)
	}
	section, _, _ = strings.Cut(section, "\n\n")
	for _, line := range strings.Split(section, "\n") {
		cells := columnGap.Split(strings.TrimSpace(line), -1)
		if len(cells) > 2 && cells[0] == balancer && cells[1] == retries {
			return cells
		}
	}
	t.Fatalf("scenario %s: no row %s/%s in:\n%s", name, balancer, retries, section)
	return nil
}

func TestCompareScenarios(t *testing.T) {
	old, new := scenarioPair()
	cmp, err := Compare(old, new, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	cmp.WriteText(&b, "old", "new")
	text := b.String()
	t.Logf("\n%s", text)

	rows := map[string][]string{
		// The fault columns are named by the faults; slow-one's differ.
		"kill-one header":                 {"balancer", "retries", "calls failed", "error-free after kill i1 @3s", "error-free after restart i1 @6s", "p99 before", "p99 during"},
		"slow-one header":                 {"balancer", "retries", "calls failed", "error-free after slow i2 @3s +20ms → slow i2 @3s +50ms", "p99 before", "p99 during"},
		"kill-one round_robin/none":       {"round_robin", "none", "480 (2.00%) → 120 (0.5%)", "1.50s → 750.00ms", "0 → not within the run", "1.20ms → 1.20ms", "4.50ms → 3.90ms"},
		"kill-one round_robin/idempotent": {"round_robin", "idempotent", "0 (0%) → 0 (0%)", "0 → 0", "0 → 0", "1.10ms → 1.10ms", "2.00ms → 1.80ms"},
		"slow-one least_loaded/none":      {"least_loaded", "none", "0 (0%) → 30 (0.125%)", "0 → 2.25s", "1.00ms → 950.0µs", "3.00ms → 2.80ms"},
	}
	for what, want := range rows {
		name, _, _ := strings.Cut(what, " ")
		got := textRow(t, text, name, want[0], want[1])
		if strings.Join(got, " | ") != strings.Join(want, " | ") {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	lacks(t, "text", text,
		"scenario runs only in the old run (2):\n  kill-one: round_robin/hedged\n  stop-one: round_robin/none\n",
		"scenario runs only in the new run (1):\n  kill-one: p2c/none\n",
		"scenario runs in both runs but not compared (1):\n  slow-one: round_robin/none: failed in the new run (instance i4 would not start)\n",
		"\nscenario slow-one\n  note: settings differ between the runs: instances 3 → 4; faults [slow i2 at 3s (+20ms until 6s)] → [slow i2 at 3s (+50ms until 6s)]\n")
	if strings.Contains(text, "scenario kill-one\n  note:") {
		t.Errorf("kill-one has the same settings in both runs, but a note says they differ")
	}
	if len(cmp.Scenarios) != 2 || cmp.Scenarios[0].Name != "kill-one" || cmp.Scenarios[1].Name != "slow-one" {
		t.Errorf("scenarios compared: %+v, want kill-one and slow-one in the old run's order", cmp.Scenarios)
	}

	b.Reset()
	cmp.WriteMarkdown(&b, "old", "new")
	md := b.String()
	lacks(t, "markdown", md,
		"\n### Resilience scenarios\n",
		"\n#### slow-one\n\n**Note:** settings differ between the runs: instances 3 → 4;",
		"|---|---|--:|--:|--:|--:|--:|\n| round_robin | none | 480 (2.00%) → 120 (0.5%) | 1.50s → 750.00ms | 0 → not within the run | 1.20ms → 1.20ms | 4.50ms → 3.90ms |\n",
		"scenario runs only in the new run (1):\n\n- kill-one: p2c/none\n")
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}

// lacks reports each of wants that out does not contain.
func lacks(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s lacks %q", what, want)
		}
	}
}

// Scenarios are information for compare: the gate judges the cells only,
// however much worse a scenario did.
func TestGateIgnoresScenarios(t *testing.T) {
	base := baseline()
	new := mkRun("new", 6, 1, core1, ref1, core8, ref8)
	old, worse := scenarioPair()
	base.Scenarios, new.Scenarios = old.Scenarios, worse.Scenarios
	g := gate(t, base, new)
	if g.Failed() {
		t.Fatalf("the gate judged scenarios:\n%s", dump(g))
	}
	if out := dump(g); strings.Contains(out, "kill-one") {
		t.Errorf("the gate's output names a scenario:\n%s", out)
	}
}

func TestRunsWithoutScenariosShowNoScenarioSection(t *testing.T) {
	cmp, err := Compare(mkRun("old", 6, 1, core1, ref1), mkRun("new", 6, 1, core1, ref1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	cmp.WriteText(&b, "old", "new")
	if strings.Contains(b.String(), "scenario") {
		t.Errorf("a comparison without scenarios mentions them:\n%s", b.String())
	}
}
