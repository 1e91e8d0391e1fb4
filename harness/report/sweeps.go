package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"rpcbench/harness/record"
	"rpcbench/harness/report/peerreport"
	"rpcbench/harness/results"
)

// The rate sweeps are shown alike in report.md and report.html: both
// render the tables built here.

// sweepTable is one table of the sweeps section, as text cells.
type sweepTable struct {
	Title string
	Head  []string
	Rows  [][]string
	Notes []string
}

// sweepPair is an rpcbench sweep beside its raw limits' sweeps (or a
// sweep with no pair): one chart, one steps table per cell.
type sweepPair struct {
	Title string
	Cells []*results.Cell
	Steps []sweepTable
}

// stepRow is one rate of a sweep cell over its repetitions, counting the
// attempt that counts (the re-run where there was one).
type stepRow struct {
	rate                     string
	target, achieved         float64 // medians
	p50, p99, uncP99         int64   // from the merged histograms
	hasUnc                   bool
	runs, held, rerun, saved int // saved: held on the re-run
	reason                   string
	savedFrom                string // why a step held only on its re-run failed first
	suspect                  bool   // above the pacer's ceiling
	// The load process's CPU over the step's window (its busy share and
	// its CPU per call), medians of the repetitions; 0 if not recorded.
	loadBusy, loadPerCall float64
}

// sweepSteps lines up a sweep cell's steps across repetitions by the
// spec rate they stand for (by position in runs that did not record it).
func sweepSteps(c *results.Cell, pacer *results.PacerCeiling) []*stepRow {
	var rows []*stepRow
	byRate := map[string]*stepRow{}
	type acc struct {
		targets, achieved []float64
		busy, perCall     []float64
		lat, unc          *record.Histogram
	}
	accs := map[*stepRow]*acc{}
	for _, rr := range c.Reps {
		if rr.Sweep == nil {
			continue
		}
		for i, st := range rr.Sweep.Steps {
			key := st.Rate
			if key == "" {
				key = fmt.Sprintf("step %d", i+1)
			}
			row := byRate[key]
			if row == nil {
				row = &stepRow{rate: key}
				byRate[key] = row
				rows = append(rows, row)
				accs[row] = &acc{lat: record.New(), unc: record.New()}
			}
			a := accs[row]
			f := st.Figures
			row.runs++
			if st.Held {
				row.held++
			} else if row.reason == "" {
				row.reason = st.Reason
			}
			if st.FirstTry != nil {
				row.rerun++
				if st.Held {
					row.saved++
					if row.savedFrom == "" {
						row.savedFrom = st.FirstTry.Reason
					}
				}
			}
			a.targets = append(a.targets, st.TargetRate)
			if f == nil {
				continue
			}
			a.achieved = append(a.achieved, f.Throughput)
			if w := f.Client.WallNs; w > 0 {
				a.busy = append(a.busy, float64(f.Client.CPUUserNs+f.Client.CPUSysNs)/float64(w))
				a.perCall = append(a.perCall, f.PerCall.ClientCPUNs)
			}
			if h, err := record.Decode(f.Hist); err == nil {
				a.lat.Merge(h)
			}
			if h, err := record.Decode(f.UncorrectedHist); err == nil && f.UncorrectedHist != "" {
				a.unc.Merge(h)
				row.hasUnc = true
			}
		}
	}
	for _, row := range rows {
		a := accs[row]
		row.target, row.achieved = median(a.targets), median(a.achieved)
		row.loadBusy, row.loadPerCall = median(a.busy), median(a.perCall)
		s := a.lat.Summary()
		row.p50, row.p99 = s.P50, s.P99
		row.uncP99 = a.unc.Summary().P99
		row.suspect = pacer.Suspect(row.target)
	}
	slices.SortStableFunc(rows, func(a, b *stepRow) int { return cmp.Compare(a.target, b.target) })
	return rows
}

// loadText is the load process's CPU: busy share, CPU per call.
func (r *stepRow) loadText() string {
	if r.loadBusy <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%% (%s)", 100*r.loadBusy, results.FormatNs(r.loadPerCall))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// heldText says how a step fared over the repetitions.
func (r *stepRow) heldText() string {
	mark := "held"
	if r.held < r.runs {
		mark = "✗ failed"
		if r.held > 0 {
			mark = "✗ mixed"
		}
	}
	s := fmt.Sprintf("%s: %d of %d", mark, r.held, r.runs)
	if r.rerun > 0 {
		s += fmt.Sprintf(" (%d re-run, %d of them held)", r.rerun, r.saved)
	}
	if r.suspect {
		s += " ⚠ above the pacer's ceiling"
	}
	return s
}

// sweepPairs puts each rpcbench sweep of g beside the sweeps of its raw
// limit and naive raw peer (peerreport.LimitFor) of the same codec,
// payload, concurrency and profile; cells with no pair stand alone.
func sweepPairs(g *group, pacer *results.PacerCeiling) []sweepPair {
	used := map[*results.Cell]bool{}
	var out []sweepPair
	add := func(cells []*results.Cell) {
		p := sweepPair{}
		var names []string
		for _, c := range cells {
			used[c] = true
			names = append(names, g.label(c))
			p.Steps = append(p.Steps, stepsTable(g, c, pacer))
		}
		p.Cells = cells
		p.Title = names[0]
		if len(names) > 1 {
			p.Title += " beside " + strings.Join(names[1:], " and ")
		}
		out = append(out, p)
	}
	for _, c := range g.Cells {
		if used[c] || isPeerCell(c) {
			continue
		}
		ch := peerreport.LimitFor(c.Params.Transport, c.Params.Concurrency)
		cells := []*results.Cell{c}
		for _, name := range []string{ch.Limit, ch.Naive} {
			if l := limitIn(g, c, name); l != nil {
				cells = append(cells, l)
			}
		}
		add(cells)
	}
	for _, c := range g.Cells {
		if !used[c] {
			add([]*results.Cell{c})
		}
	}
	return out
}

func isPeerCell(c *results.Cell) bool {
	n := c.Params.Transport.Name
	return n == "grpc" || strings.HasPrefix(n, "netrpc") || strings.HasPrefix(n, "raw-")
}

// limitIn finds the sweep of peer name in g that matches c but for its
// transport.
func limitIn(g *group, c *results.Cell, name string) *results.Cell {
	if name == "" {
		return nil
	}
	p := c.Params
	for _, l := range g.Cells {
		q := l.Params
		if q.Transport.Name == name && q.Codec == p.Codec && q.Payload == p.Payload && q.Concurrency == p.Concurrency &&
			q.Connections == p.Connections && q.ProfileName() == p.ProfileName() {
			return l
		}
	}
	return nil
}

// sweepSummary is the sweeps of g, one row each.
func sweepSummary(g *group) sweepTable {
	t := sweepTable{Title: g.Name, Head: []string{"cell", "status", "capacity (closed)", "sustained rate", "steps held", "curve"}}
	for _, c := range g.Cells {
		if !c.Ran() {
			t.Rows = append(t.Rows, []string{g.label(c), c.Status, "–", "–", "–", "–"})
			continue
		}
		held, total := 0, 0
		var dips []string
		for _, rr := range c.Reps {
			if rr.Sweep == nil {
				continue
			}
			for _, st := range rr.Sweep.Steps {
				total++
				if st.Held {
					held++
				}
			}
			// Runs from before the field existed: judge the steps here.
			_, nm := results.Sustained(rr.Sweep.Steps)
			if len(nm) > 0 {
				var rs []string
				for _, r := range nm {
					rs = append(rs, results.FormatRate(r))
				}
				dips = append(dips, fmt.Sprintf("rep %d: %s failed below a held step", rr.Rep+1, strings.Join(rs, ", ")))
			}
		}
		curve := "monotonic"
		if len(dips) > 0 {
			curve = "⚠ non-monotonic — " + strings.Join(dips, "; ")
		}
		t.Rows = append(t.Rows, []string{g.label(c), c.Status, results.FormatRate(c.Merged.CapacityRate), results.FormatRate(c.Merged.SustainedRate),
			fmt.Sprintf("%d of %d", held, total), curve})
	}
	return t
}

// stepsTable is one sweep cell's steps.
func stepsTable(g *group, c *results.Cell, pacer *results.PacerCeiling) sweepTable {
	t := sweepTable{Title: g.label(c), Head: []string{"step", "target (median)", "achieved (median)", "corrected p99", "uncorrected p99", "p50", "load CPU busy (per call)", "held"}}
	for _, r := range sweepSteps(c, pacer) {
		unc := "–"
		if r.hasUnc {
			unc = results.FormatNs(float64(r.uncP99))
		}
		t.Rows = append(t.Rows, []string{r.rate, results.FormatRate(r.target), results.FormatRate(r.achieved),
			results.FormatNs(float64(r.p99)), unc, results.FormatNs(float64(r.p50)), r.loadText(), r.heldText()})
		if r.held < r.runs && r.reason != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %s", r.rate, r.reason))
		}
		if r.savedFrom != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: held on its re-run; the first try failed: %s", r.rate, r.savedFrom))
		}
	}
	return t
}

// sweepIntro is the paragraph atop the sweeps section.
func sweepIntro(run *results.Run) string {
	m := run.Manifest
	s := fmt.Sprintf("Open-loop steps at rising rates. A step holds when its corrected p99 stays under %v with no errors, "+
		"the generator on schedule and ≥ 95%% of the target rate achieved; a step that fails is run again at once and fails only if the re-run fails too "+
		"(both attempts are in results.json). The sustained rate is the achieved rate of the highest step that held with every step below it held "+
		"(median of the repetitions), so one failing step cannot be skipped over. Capacity is the closed-loop probe at the same concurrency. "+
		"Each rpcbench sweep stands beside the sweeps of its raw limits under the same schedule: where both tails rise at low load, the machine is the cause. "+
		"Step figures: target and achieved rates are medians of the repetitions; latencies come from their merged histograms. "+
		"Load CPU busy is the load process's CPU time over the step's window as a share of one CPU (median), with its CPU per call: "+
		"at a low rate nothing batches, so each call pays its own system calls and wake-ups and costs many times its closed-loop CPU, "+
		"and a load process near its CPUs' limit at a few percent of capacity queues its own calls; that, not the stack, is then the step's tail.",
		m.Spec.Sweep.P99Bound.D())
	if p := m.Pinning; p.Enabled && p.ClientCPUs != "" {
		s += fmt.Sprintf(" The load process ran on CPU %s (GOMAXPROCS %d).", p.ClientCPUs, p.ClientGOMAXPROCS)
	}
	if p := m.PacerCeiling; p != nil {
		s += " Pacer check: " + p.Explanation + "."
	}
	return s
}

// sweepMeaning explains a non-monotonic curve where the reports show one.
func sweepMeaning(g *group) string {
	for _, row := range sweepSummary(g).Rows {
		if strings.HasPrefix(row[5], "⚠") {
			return "A non-monotonic curve: " + results.NonMonotonicMeaning + "."
		}
	}
	return ""
}

// sweepChart draws a pair's curves: corrected p99 (solid) and p50
// (dashed) per step against the achieved rate, medians over repetitions.
func sweepChart(run *results.Run, g *group, p sweepPair) template.HTML {
	bound := float64(run.Manifest.Spec.Sweep.P99Bound.D())
	lo, hi, maxX := bound, bound, 0.0
	var ss []series
	for i, c := range p.Cells {
		rows := sweepSteps(c, run.Manifest.PacerCeiling)
		if len(rows) == 0 {
			continue
		}
		p99 := series{name: g.label(c) + " p99", color: color(i), marks: true}
		p50 := series{name: g.label(c) + " p50", color: color(i), dashed: true}
		for _, r := range rows {
			p99.pts = append(p99.pts, [2]float64{r.achieved, float64(r.p99)})
			p99.tips = append(p99.tips, fmt.Sprintf("%s: target %s, achieved %s, p99 %s, %s", r.rate, results.FormatRate(r.target), results.FormatRate(r.achieved), results.FormatNs(float64(r.p99)), r.heldText()))
			p50.pts = append(p50.pts, [2]float64{r.achieved, float64(r.p50)})
			lo, hi, maxX = math.Min(lo, math.Max(float64(r.p50), 1)), math.Max(hi, float64(r.p99)), math.Max(maxX, r.achieved)
		}
		ss = append(ss, p99, p50)
	}
	if len(ss) == 0 {
		return ""
	}
	ylo, yhi, yt := latencyTicks(lo, hi)
	top, xt := linearTicks(maxX, 6, results.FormatRate)
	ch := &lineChart{title: "Latency against throughput — " + p.Title,
		x:      axis{label: "achieved calls/s", min: 0, max: top, ticks: xt},
		y:      axis{label: "latency from intended send (corrected)", min: ylo, max: yhi, log: true, ticks: yt},
		series: ss, hlines: []tick{{bound, "p99 bound " + time.Duration(bound).String()}},
		note: "Solid: corrected p99 per step (dots); dashed: p50. Achieved rates are medians of the repetitions, latencies from their merged histograms."}
	return ch.svg()
}
