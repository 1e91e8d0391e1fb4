package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"rpcbench/harness/results"
	"rpcbench/internal/plural"
)

// The Resilience section: per scenario, a table of its runs (balancer ×
// retry policy) with calls failed, the time until error-free again after
// each fault, and latency during the fault window against before it; a
// table of the traffic each instance answered in each phase; and in HTML
// a chart per run of traffic per instance and errors over time, with the
// faults marked.

var resilienceHead = []string{"balancer", "retries", "calls", "failed", "failed by code", "error-free again after",
	"p50 before → during", "p99 before → during", "p99.9 before → during", "retries / hedges"}

// resilienceRows are the rows of a scenario's table, as text.
func resilienceRows(sc *results.Scenario) [][]string {
	var rows [][]string
	for _, r := range sc.Runs {
		row := []string{r.Balancer, sc.RunLabel(r)}
		if r.Status == results.StatusFailed {
			rows = append(rows, append(row, "FAILED: "+r.Error, "", "", "", "", "", "", ""))
			continue
		}
		var codes []string
		for _, k := range sortedKeys(r.FailedByCode) {
			codes = append(codes, fmt.Sprintf("%s %d", k, r.FailedByCode[k]))
		}
		var recov []string
		for _, f := range r.Faults {
			recov = append(recov, f.Label()+": "+f.ErrorFreeText())
		}
		pair := func(get func(p *results.Phase) int64) string {
			return results.FormatNs(float64(get(&r.Before))) + " → " + results.FormatNs(float64(get(&r.During)))
		}
		row = append(row, strconv.FormatInt(r.Issued, 10), strconv.FormatInt(r.Failed, 10), strings.Join(codes, ", "),
			strings.Join(recov, "; "),
			pair(func(p *results.Phase) int64 { return p.Latency.P50 }),
			pair(func(p *results.Phase) int64 { return p.Latency.P99 }),
			pair(func(p *results.Phase) int64 { return p.Latency.P999 }),
			fmt.Sprintf("%d / %d", r.Client.Retries, r.Client.Hedges))
		rows = append(rows, row)
	}
	return rows
}

// scenarioSettings describes a scenario in one sentence.
func scenarioSettings(sc *results.Scenario) string {
	s := sc.Settings
	from, to := s.FaultWindow()
	var faults []string
	for _, f := range s.Faults {
		faults = append(faults, f.Describe())
	}
	return fmt.Sprintf("%s of %s (%s, %s) announced in registry %s (lease TTL %v); load %s from %s for %v after a %v warm-up, per-call timeout %v; faults: %s. Fault window %v–%v; error-free means %v without a failed call (%v buckets).",
		plural.Count(s.Instances, "instance"), s.Transport, s.Codec, s.Payload, s.Registry, s.RegistryTTL.D(), s.Load, plural.Count(s.Concurrency, "worker"), s.Duration.D(), s.Warmup.D(),
		s.Timeout.D(), strings.Join(faults, ", "), from, to, s.Settle.D(), s.Bucket.D())
}

var trafficHead = []string{"balancer", "retries", "instance", "before (calls/s)", "during", "after"}

// trafficRows give the calls/s each instance answered in each phase.
func trafficRows(sc *results.Scenario) [][]string {
	var rows [][]string
	for _, r := range sc.Runs {
		if r.Status == results.StatusFailed {
			continue
		}
		phases := []*results.Phase{&r.Before, &r.During, r.After}
		for i, id := range r.Instances {
			row := []string{r.Balancer, sc.RunLabel(r), id}
			for _, p := range phases {
				row = append(row, phaseRate(r, i, p))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// phaseRate is instance i's answers per second over the buckets that lie
// inside phase p.
func phaseRate(r *results.ScenarioRun, i int, p *results.Phase) string {
	if p == nil || r.BucketNs <= 0 || i >= len(r.Served) {
		return "–"
	}
	from := int((p.StartNs + r.BucketNs - 1) / r.BucketNs)
	to := min(int(p.EndNs/r.BucketNs), len(r.Served[i]))
	if to <= from {
		return "–"
	}
	var n int64
	for _, v := range r.Served[i][from:to] {
		n += v
	}
	return results.FormatRate(float64(n) / (time.Duration(int64(to-from) * r.BucketNs).Seconds()))
}

// writeResilience writes the Markdown section.
func writeResilience(w io.Writer, run *results.Run) {
	if len(run.Scenarios) == 0 {
		return
	}
	fmt.Fprintf(w, "## Resilience\n\n")
	fmt.Fprintf(w, "Each scenario runs its server instances as separate processes behind a registry and drives them through the cluster client, once per balancer and retry policy, "+
		"while its faults are applied. Calls count in the bucket of their start (intended send time in open loop); latency is of successful calls, before and during the fault window. "+
		"\"Error-free again after\" is the time from a fault to the first stretch without a failed call. Charts of traffic per instance over time are in report.html.\n\n")
	for _, sc := range run.Scenarios {
		fmt.Fprintf(w, "### %s\n\n%s\n\n", sc.Name, mdEscape(scenarioSettings(sc)))
		mdTable(w, resilienceHead, resilienceRows(sc))
		fmt.Fprintf(w, "Calls answered per second by each instance, by phase:\n\n")
		mdTable(w, trafficHead, trafficRows(sc))
	}
}

func mdTable(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|", strings.Join(head, " | "))
	for range head {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		for i := range r {
			r[i] = mdEscape(r[i])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

// htmlScenario is one scenario's part of report.html.
type htmlScenario struct {
	Name, Settings    string
	Head, TrafficHead []string
	Rows, Traffic     [][]string
	Charts            []template.HTML
}

func htmlResilience(run *results.Run) []htmlScenario {
	var out []htmlScenario
	for _, sc := range run.Scenarios {
		d := htmlScenario{Name: sc.Name, Settings: scenarioSettings(sc), Head: resilienceHead, Rows: resilienceRows(sc),
			TrafficHead: trafficHead, Traffic: trafficRows(sc)}
		for _, r := range sc.Runs {
			if r.Status != results.StatusFailed && len(r.OKs) > 0 {
				d.Charts = append(d.Charts, trafficChart(sc, r))
			}
		}
		out = append(out, d)
	}
	return out
}

// trafficChart draws the calls each instance answered per second, one
// line each, and the failed calls per second, with the faults marked.
func trafficChart(sc *results.Scenario, r *results.ScenarioRun) template.HTML {
	bucket := time.Duration(r.BucketNs)
	perSec := 1 / bucket.Seconds()
	end := float64(len(r.OKs)) * bucket.Seconds()
	top := 0.0
	line := func(name string, counts []int64) series {
		s := series{name: name}
		for b, v := range counts {
			y := float64(v) * perSec
			top = max(top, y)
			// A step per bucket: the rate held over the whole bucket.
			x0 := float64(b) * bucket.Seconds()
			s.pts = append(s.pts, [2]float64{x0, y}, [2]float64{x0 + bucket.Seconds(), y})
		}
		return s
	}
	var ss []series
	for i, id := range r.Instances {
		s := line("served by "+id, r.Served[i])
		s.color = color(i)
		ss = append(ss, s)
	}
	fails := line("failed calls", r.Fails)
	fails.color, fails.dashed = "#000", true
	ss = append(ss, fails)
	var marks []tick
	for _, f := range r.Faults {
		if f.AppliedNs >= 0 {
			marks = append(marks, tick{time.Duration(f.AppliedNs).Seconds(), fmt.Sprintf("%s i%d", f.Action, f.Instance)})
		}
		if f.Until > 0 {
			marks = append(marks, tick{f.Until.D().Seconds(), fmt.Sprintf("i%d normal", f.Instance)})
		}
	}
	xtop, xt := linearTicks(end, 8, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "s" })
	ytop, yt := linearTicks(top, 6, results.FormatRate)
	ch := &lineChart{
		title:  fmt.Sprintf("Traffic per instance — %s, balancer %s, retries %s", sc.Name, r.Balancer, sc.RunLabel(r)),
		x:      axis{label: "time since the timeline's start (s)", min: 0, max: xtop, ticks: xt},
		y:      axis{label: fmt.Sprintf("calls/s (per %v bucket)", bucket), min: 0, max: ytop, ticks: yt},
		series: ss, vlines: marks,
		note: fmt.Sprintf("%d calls, %d failed. Solid: calls each instance answered; dashed black: failed calls, by their start. Vertical lines: faults as applied.", r.Issued, r.Failed),
	}
	return ch.svg()
}
