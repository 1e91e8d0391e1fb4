package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"rpcbench/harness/report/peerreport"
	"rpcbench/harness/results"
	"rpcbench/harness/verdict"
	"rpcbench/internal/plural"
)

// Markdown writes report.md: problems first, then one table per group
// (best value of each column in bold, throughput as a ratio to the
// reference cell), sweeps, open-loop details, skipped cells and the
// manifest.
func Markdown(w io.Writer, run *results.Run) error {
	bw := bufio.NewWriter(w)
	m := run.Manifest
	fmt.Fprintf(bw, "# rpcbench: %s\n\n", m.SpecName)
	if d := m.Spec.Description; d != "" {
		fmt.Fprintf(bw, "%s\n\n", strings.TrimSpace(d))
	}
	fmt.Fprintf(bw, "Run `%s` · commit `%s` · %s, %d CPUs · %s · server %s", run.RunID, short(m.Commit), m.CPUModel, m.Cores, m.GoVersion, m.ServerMode)
	if m.Pinning.Enabled {
		fmt.Fprintf(bw, " · pinned: client CPUs %s, server CPUs %s", m.Pinning.ClientCPUs, m.Pinning.ServerCPUs)
	}
	fmt.Fprintf(bw, "\n\n")
	fmt.Fprintf(bw, "Latency is per call; closed-loop cells from the send, open-loop cells from the intended send time (coordinated omission corrected). "+
		"Figures are medians over %s run interleaved; latency percentiles come from the merged histogram. "+
		"CPU and allocations are per call, client plus server process; wire bytes are counted at the sockets. **Bold** is the best in its column; "+
		"×ref is throughput divided by the reference cell's (`%s`).\n\n", plural.Count(m.Spec.Repetitions, "repetition"), m.Reference)
	writeVerdictMarkdown(bw, verdict.Of(run))

	if ps := problems(run); len(ps) > 0 {
		fmt.Fprintf(bw, "## ⚠ Problems — read before trusting any number\n\n")
		for _, p := range ps {
			fmt.Fprintf(bw, "- **%s** `%s`: %s\n", p.Kind, p.Key, mdEscape(p.Text))
		}
		fmt.Fprintln(bw)
	} else if g := m.GeneratorCeiling; g != nil {
		fmt.Fprintf(bw, "No cell had errors. Generator check: %s.\n\n", g.Explanation)
	}

	ref := reference(run)
	seen := anchors{}
	for _, g := range groups(run, false) {
		fmt.Fprintf(bw, "## %s\n\n", g.Name)
		if f := g.fixed(); f != "" {
			fmt.Fprintf(bw, "All cells: %s.\n\n", f)
		}
		writeMainTable(bw, g, ref, seen)
	}
	if sw := groups(run, true); len(sw) > 0 {
		fmt.Fprintf(bw, "## Rate sweeps\n\n%s\n\n", sweepIntro(run))
		for _, g := range sw {
			writeSweepMarkdown(bw, run, g)
		}
	}
	writeProfilesMarkdown(bw, run)
	writeOpenTable(bw, run)
	writeResilience(bw, run)
	peerreport.Markdown(bw, run, m.Peers)
	targetsMarkdown(bw, run)
	writeSkipped(bw, run)
	fmt.Fprintf(bw, "## Manifest\n\n| | |\n|---|---|\n")
	for _, r := range manifestRows(run) {
		fmt.Fprintf(bw, "| %s | %s |\n", r[0], mdEscape(r[1]))
	}
	fmt.Fprintf(bw, "\nEvery figure, each repetition's, and the encoded histograms are in `results.json`; `hgrm/` holds one percentile distribution per cell (µs), written with the run (where it is absent, as in the committed runs, `rpcbench report DIR` writes it from results.json); `bench.txt` is for benchstat (its units are in the README).\n")
	return bw.Flush()
}

func writeMainTable(w io.Writer, g *group, ref *results.Cell, seen anchors) {
	bestv := best(g.Cells, mainColumns)
	fmt.Fprintf(w, "| cell | status |")
	for i, col := range mainColumns {
		fmt.Fprintf(w, " %s |", col.head)
		if i == 0 {
			fmt.Fprintf(w, " ×ref |")
		}
	}
	fmt.Fprintf(w, " errors |\n|---|---|")
	for i := range mainColumns {
		fmt.Fprintf(w, "---:|")
		if i == 0 {
			fmt.Fprintf(w, "---:|")
		}
	}
	fmt.Fprintf(w, "---:|\n")
	for _, c := range g.Cells {
		fmt.Fprintf(w, "| %s%s | %s |", mdAnchor(seen.take(c.Key)), g.label(c), statusMark(c))
		for i, col := range mainColumns {
			v, ok := col.value(c)
			cell := "–"
			if ok {
				cell = col.fmt(v)
				if !isNoop(c) && c.Status != results.StatusFailed && sameValue(v, bestv[i]) {
					cell = "**" + cell + "**"
				}
			}
			fmt.Fprintf(w, " %s |", cell)
			if i == 0 {
				fmt.Fprintf(w, " %s |", ratio(c, ref))
			}
		}
		errs := "0"
		if c.Ran() && c.Merged.Errors > 0 {
			errs = fmt.Sprintf("**%d ⚠**", c.Merged.Errors)
		} else if !c.Ran() {
			errs = "–"
		}
		fmt.Fprintf(w, " %s |\n", errs)
	}
	fmt.Fprintln(w)
}

func writeSweepMarkdown(w io.Writer, run *results.Run, g *group) {
	fmt.Fprintf(w, "### %s\n\n", g.Name)
	writeTextTable(w, sweepSummary(g))
	if m := sweepMeaning(g); m != "" {
		fmt.Fprintf(w, "%s\n\n", m)
	}
	for _, p := range sweepPairs(g, run.Manifest.PacerCeiling) {
		fmt.Fprintf(w, "#### %s\n\n", p.Title)
		for _, t := range p.Steps {
			if len(p.Steps) > 1 {
				fmt.Fprintf(w, "%s:\n\n", t.Title)
			}
			writeTextTable(w, t)
		}
	}
}

// writeTextTable writes t as a Markdown table (first column left, the
// rest right-aligned) and its notes as a list.
func writeTextTable(w io.Writer, t sweepTable) {
	fmt.Fprintf(w, "| %s |\n|---|", strings.Join(t.Head, " | "))
	for range t.Head[1:] {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = mdEscape(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	for _, n := range t.Notes {
		fmt.Fprintf(w, "- %s\n", mdEscape(n))
	}
	if len(t.Notes) > 0 {
		fmt.Fprintln(w)
	}
}

func writeOpenTable(w io.Writer, run *results.Run) {
	var rows []string
	for _, c := range run.Cells {
		if !c.Ran() || c.Params.Load.Kind != "open" {
			continue
		}
		var pacer, queue int64
		var target float64
		flags := []string{}
		for _, rr := range c.Reps {
			if f := rr.Figures; f != nil && f.Open != nil {
				pacer, queue, target = max(pacer, f.Open.PacerLagP99Ns), max(queue, f.Open.QueueP99Ns), f.Open.TargetRate
			}
		}
		if c.Merged.Behind {
			flags = append(flags, "**BEHIND**")
		}
		if c.Merged.Saturated {
			flags = append(flags, "saturated")
		}
		unc := "–"
		if c.Merged.Uncorrected != nil {
			unc = results.FormatNs(float64(c.Merged.Uncorrected.P99))
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s | %s | %s |", c.Key, results.FormatRate(target), results.FormatRate(c.Merged.Throughput.Median),
			results.FormatNs(float64(c.Merged.Latency.P99)), unc, results.FormatNs(float64(pacer)), results.FormatNs(float64(queue)), strings.Join(flags, " ")))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "## Open-loop cells\n\nTarget and achieved rate, corrected and uncorrected p99, the pacer's own p99 lateness and the p99 wait for a free worker (worst repetition).\n\n")
	fmt.Fprintf(w, "| cell | target | achieved | p99 corrected | p99 uncorrected | pacer lag p99 | queue p99 | flags |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
}

func writeSkipped(w io.Writer, run *results.Run) {
	var rows []string
	for _, c := range run.Cells {
		if c.Status == results.StatusSkipped {
			rows = append(rows, fmt.Sprintf("- `%s`: %s", c.Key, mdEscape(c.SkipReason)))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "<details><summary>%s not applicable</summary>\n\n%s\n\n</details>\n\n", plural.Count(len(rows), "cell"), strings.Join(rows, "\n"))
}

func statusMark(c *results.Cell) string {
	switch c.Status {
	case results.StatusOK:
		return "ok"
	case results.StatusErrors:
		return "**⚠ ERRORS**"
	case results.StatusFailed:
		return "**✗ FAILED**"
	case results.StatusBehind:
		return "**⚠ BEHIND**"
	case results.StatusDegraded:
		return "**⚠ DEGRADED**"
	}
	return c.Status
}

func ratio(c, ref *results.Cell) string {
	if ref == nil || !c.Ran() || ref.Merged.Throughput.Median == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", c.Merged.Throughput.Median/ref.Merged.Throughput.Median)
}

func sameValue(a, b float64) bool {
	if math.IsNaN(b) {
		return false
	}
	return a == b
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func mdEscape(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

// Summary prints a terminal summary of every cell that ran: the figures an
// ad-hoc `rpcbench bench --transport ...` run is for.
func Summary(w io.Writer, run *results.Run) error {
	bw := bufio.NewWriter(w)
	for _, p := range problems(run) {
		fmt.Fprintf(bw, "%s %s: %s\n", p.Kind, p.Key, p.Text)
	}
	for _, c := range run.Cells {
		if !c.Ran() {
			if c.Status == results.StatusSkipped {
				fmt.Fprintf(bw, "%s\n  skipped: %s\n", c.Key, c.SkipReason)
			}
			continue
		}
		m := c.Merged
		l := m.Latency
		fmt.Fprintf(bw, "%s  [%s]\n", c.Key, c.Status)
		fmt.Fprintf(bw, "  throughput  %s calls/s (median of %d; range %s–%s), %d errors\n", results.FormatRate(m.Throughput.Median), m.Reps, results.FormatRate(m.Throughput.Min), results.FormatRate(m.Throughput.Max), m.Errors)
		fmt.Fprintf(bw, "  latency     p50 %s  p90 %s  p99 %s  p99.9 %s  p99.99 %s  max %s  mean %s  stdev %s\n",
			results.FormatNs(float64(l.P50)), results.FormatNs(float64(l.P90)), results.FormatNs(float64(l.P99)), results.FormatNs(float64(l.P999)), results.FormatNs(float64(l.P9999)), results.FormatNs(float64(l.Max)), results.FormatNs(l.Mean), results.FormatNs(l.Stdev))
		if u := m.Uncorrected; u != nil {
			fmt.Fprintf(bw, "  uncorrected p50 %s  p99 %s  p99.9 %s  max %s\n", results.FormatNs(float64(u.P50)), results.FormatNs(float64(u.P99)), results.FormatNs(float64(u.P999)), results.FormatNs(float64(u.Max)))
		}
		if !isNoop(c) {
			p := m.PerCall
			side := "server"
			if p.Combined {
				side = "server (in process: included in client)"
			}
			if p.ServerUnknown != "" {
				fmt.Fprintf(bw, "  per call    client %.2f µs CPU, %.1f allocs, %.0f B; server — (%s)\n",
					p.ClientCPUNs/1e3, p.ClientAllocs, p.ClientAllocBytes, p.ServerUnknown)
				fmt.Fprintf(bw, "  wire/call   request %.1f B, response %.1f B (client socket counts)\n", p.WireOut, p.WireIn)
				fmt.Fprintf(bw, "  peak RSS    client %s, server —\n", fmtBytes(p.ClientPeakRSS))
			} else {
				fmt.Fprintf(bw, "  per call    client %.2f µs CPU, %.1f allocs, %.0f B; %s %.2f µs CPU, %.1f allocs, %.0f B\n",
					p.ClientCPUNs/1e3, p.ClientAllocs, p.ClientAllocBytes, side, p.ServerCPUNs/1e3, p.ServerAllocs, p.ServerAllocBytes)
				fmt.Fprintf(bw, "  wire/call   request %.1f B, response %.1f B (server saw %.1f in, %.1f out)\n", p.WireOut, p.WireIn, p.ServerWireIn, p.ServerWireOut)
				fmt.Fprintf(bw, "  peak RSS    client %s, server %s\n", fmtBytes(p.ClientPeakRSS), fmtBytes(p.ServerPeakRSS))
			}
		}
		if m.SustainedRate > 0 || m.CapacityRate > 0 {
			fmt.Fprintf(bw, "  sweep       capacity %s calls/s, sustained %s calls/s with p99 ≤ %v\n", results.FormatRate(m.CapacityRate), results.FormatRate(m.SustainedRate), time.Duration(run.Manifest.Spec.Sweep.P99Bound))
		}
	}
	peerreport.Summary(bw, run)
	return bw.Flush()
}
