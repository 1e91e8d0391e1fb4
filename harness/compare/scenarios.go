package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// Resilience scenarios are compared for information only: each run of a
// scenario (balancer × retry policy × repetition) is one timeline, with no
// repetitions to test a change against, so compare shows old → new figures
// without a verdict and the gate does not judge them.

// ScenarioComparison holds the runs of one scenario found in both runs.
type ScenarioComparison struct {
	Name     string
	Old, New *results.Scenario
	// SettingsDiffer lists the settings that differ between the runs
	// ("instances 3 → 4"): the rows then compare different experiments.
	SettingsDiffer []string
	// Rows pair the scenario's runs that ran in both, in the old run's
	// order.
	Rows [][2]*results.ScenarioRun
}

// scenarioRun is one run of a scenario, as matched between the runs.
type scenarioRun struct {
	sc  *results.Scenario
	run *results.ScenarioRun
}

type scenarioRunKey struct {
	name, balancer, retries string
	rep                     int
}

func (s scenarioRun) key() scenarioRunKey {
	return scenarioRunKey{s.sc.Name, s.run.Balancer, s.run.Retries, s.run.Rep}
}

// String names the run: "kill-one: round_robin/idempotent".
func (s scenarioRun) String() string {
	return fmt.Sprintf("%s: %s/%s", s.sc.Name, s.run.Balancer, s.sc.RunLabel(s.run))
}

func scenarioRuns(r *results.Run) []scenarioRun {
	var out []scenarioRun
	for _, sc := range r.Scenarios {
		for _, run := range sc.Runs {
			out = append(out, scenarioRun{sc, run})
		}
	}
	return out
}

// compareScenarios matches the scenario runs of the old and new run by
// scenario name, balancer, retry policy and repetition.
func (c *Comparison) compareScenarios() {
	pairs := matchBy(scenarioRuns(c.Old), scenarioRuns(c.New), scenarioRun.key, scenarioRun.String,
		&c.ScenarioOnlyOld, &c.ScenarioOnlyNew)
	var cur *ScenarioComparison
	for _, p := range pairs {
		o, n := p[0], p[1]
		if cur == nil || cur.Name != o.sc.Name {
			cur = &ScenarioComparison{Name: o.sc.Name, Old: o.sc, New: n.sc, SettingsDiffer: settingsDiffer(&o.sc.Settings, &n.sc.Settings)}
			c.Scenarios = append(c.Scenarios, cur)
		}
		switch {
		case o.run.Status == results.StatusFailed && n.run.Status == results.StatusFailed:
			c.ScenarioNotRun = append(c.ScenarioNotRun, o.String()+": failed in both runs ("+n.run.Error+")")
		case o.run.Status == results.StatusFailed:
			c.ScenarioNotRun = append(c.ScenarioNotRun, o.String()+": failed in the old run ("+o.run.Error+")")
		case n.run.Status == results.StatusFailed:
			c.ScenarioNotRun = append(c.ScenarioNotRun, o.String()+": failed in the new run ("+n.run.Error+")")
		default:
			cur.Rows = append(cur.Rows, [2]*results.ScenarioRun{o.run, n.run})
		}
	}
}

// sameRuns are the settings that choose which runs a scenario has, not
// what each run does: a difference there shows as runs in one run only.
var sameRuns = map[string]bool{"name": true, "balancers": true, "retries": true, "repetitions": true}

// settingsDiffer lists the settings of a scenario that differ between a
// and b, by their names in the spec.
func settingsDiffer(a, b *spec.Scenario) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
		if sameRuns[name] {
			continue
		}
		x, y := settingText(va.Field(i).Interface()), settingText(vb.Field(i).Interface())
		if x != y {
			out = append(out, fmt.Sprintf("%s %s → %s", name, x, y))
		}
	}
	return out
}

// settingText writes a setting as in the spec: durations as "500ms",
// faults described one by one.
func settingText(v any) string {
	if faults, ok := v.([]spec.Fault); ok {
		var d []string
		for _, f := range faults {
			d = append(d, f.Describe())
		}
		return "[" + strings.Join(d, ", ") + "]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.Trim(string(b), `"`)
}

// table is the scenario's comparison as rows, the first the header: per
// run the calls failed, the time until error-free again after each fault
// and the p99 latency before and during the fault window, each old → new.
// Columns from 2 on hold figures.
func (sc *ScenarioComparison) table() [][]string {
	of, nf := sc.Old.Settings.Faults, sc.New.Settings.Faults
	nFaults := max(len(of), len(nf))
	head := []string{"balancer", "retries", "calls failed"}
	for i := range nFaults {
		head = append(head, "error-free after "+oldNew(faultLabel(of, i), faultLabel(nf, i)))
	}
	head = append(head, "p99 before", "p99 during")
	rows := [][]string{head}
	for _, p := range sc.Rows {
		o, n := p[0], p[1]
		row := []string{o.Balancer, sc.Old.RunLabel(o), failedText(o) + " → " + failedText(n)}
		for i := range nFaults {
			row = append(row, errorFreeText(o, i)+" → "+errorFreeText(n, i))
		}
		row = append(row, p99Text(&o.Before)+" → "+p99Text(&n.Before), p99Text(&o.During)+" → "+p99Text(&n.During))
		rows = append(rows, row)
	}
	return rows
}

// oldNew is a label of the old and new run: one if they agree.
func oldNew(a, b string) string {
	if a == b || b == "–" {
		return a
	}
	if a == "–" {
		return b
	}
	return a + " → " + b
}

func faultLabel(faults []spec.Fault, i int) string {
	if i >= len(faults) {
		return "–"
	}
	return faults[i].Label()
}

// failedText is a run's failed calls and their share of its calls.
func failedText(r *results.ScenarioRun) string {
	if r.Issued == 0 {
		return fmt.Sprintf("%d", r.Failed)
	}
	return fmt.Sprintf("%d (%s%%)", r.Failed, sig3(100*float64(r.Failed)/float64(r.Issued)))
}

func p99Text(p *results.Phase) string { return results.FormatNs(float64(p.Latency.P99)) }

func errorFreeText(r *results.ScenarioRun, i int) string {
	if i >= len(r.Faults) {
		return "–"
	}
	return r.Faults[i].ErrorFreeText()
}

// scenarioIntro explains the scenario section.
const scenarioIntro = "Old → new per run of a scenario (balancer × retry policy). Each run is one timeline, so there is no significance test and no verdict. " +
	"Calls failed (share of all calls), the time until error-free again after each fault, and the p99 latency of successful calls before and during the fault window."

// writeScenarios writes each scenario's table, in text or Markdown.
func (c *Comparison) writeScenarios(w io.Writer, markdown bool) {
	if len(c.Scenarios) == 0 {
		return
	}
	if markdown {
		fmt.Fprintf(w, "\n### Resilience scenarios\n\n%s\n", scenarioIntro)
	} else {
		fmt.Fprintf(w, "\nresilience scenarios. %s\n", scenarioIntro)
	}
	for _, sc := range c.Scenarios {
		note := ""
		if len(sc.SettingsDiffer) > 0 {
			note = "settings differ between the runs: " + strings.Join(sc.SettingsDiffer, "; ")
		}
		t := sc.table()
		if markdown {
			fmt.Fprintf(w, "\n#### %s\n\n", sc.Name)
			if note != "" {
				fmt.Fprintf(w, "**Note:** %s\n\n", note)
			}
			if len(sc.Rows) > 0 {
				writeMarkdownTable(w, t, 2, len(t[0]))
			}
			continue
		}
		fmt.Fprintf(w, "\nscenario %s\n", sc.Name)
		if note != "" {
			fmt.Fprintf(w, "  note: %s\n", note)
		}
		if len(sc.Rows) > 0 {
			writeTable(w, "  ", t, 2, len(t[0]))
		}
	}
}
