package compare

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"rpcbench/harness/results"
	"rpcbench/internal/plural"
)

// keyNamer shortens cell keys by leaving out the dimensions every key
// shares, which it reports once as the common part.
type keyNamer struct {
	common []string
	drop   map[string]bool
}

func newKeyNamer(keys []string) keyNamer {
	n := keyNamer{drop: map[string]bool{}}
	if len(keys) < 2 {
		return n
	}
	first := strings.Split(keys[0], "/")
	for _, part := range first {
		shared := true
		for _, k := range keys[1:] {
			if !containsPart(k, part) {
				shared = false
				break
			}
		}
		if shared {
			n.common = append(n.common, part)
			n.drop[part] = true
		}
	}
	if len(n.common) == len(first) { // identical keys: keep them whole
		n.common, n.drop = nil, map[string]bool{}
	}
	return n
}

func containsPart(key, part string) bool {
	for _, p := range strings.Split(key, "/") {
		if p == part {
			return true
		}
	}
	return false
}

func (n keyNamer) short(key string) string {
	var keep []string
	for _, p := range strings.Split(key, "/") {
		if !n.drop[p] {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return key
	}
	return strings.Join(keep, "/")
}

// RunLabel describes a run in one line: where it came from, its id,
// commit and repetitions.
func RunLabel(name string, r *results.Run) string {
	commit := r.Manifest.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if r.Manifest.Dirty {
		commit += "+dirty"
	}
	reps := repsOf(r)
	if name == "" {
		name = r.RunID
	}
	return fmt.Sprintf("%s (run %s, commit %s, %d reps)", name, r.RunID, orNone(commit), reps)
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (c *Comparison) keys() []string { return cellKeys(c.Rows, func(r *Row) string { return r.Key }) }

// cellKeys lists the distinct cell keys of items in first-seen order.
func cellKeys[T any](items []T, key func(T) string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func pString(r *Row) string {
	if r.P < 0.001 {
		return fmt.Sprintf("p<0.001 n=%d+%d", r.Old.Len(), r.New.Len())
	}
	return fmt.Sprintf("p=%.3f n=%d+%d", r.P, r.Old.Len(), r.New.Len())
}

func metricTitle(m *Metric, ratio bool) string {
	t := m.Label
	if ratio {
		t += " ÷ reference"
	} else if m.Unit != "time" {
		t += " (" + m.Unit + ")"
	}
	return t
}

// blocks groups a comparison's rows by metric and ratio-ness.
func (c *Comparison) blocks() [][]*Row {
	var out [][]*Row
	for _, m := range Metrics {
		for _, ratio := range []bool{false, true} {
			var rows []*Row
			for _, r := range c.Rows {
				if r.Metric == m && r.Ratio == ratio {
					rows = append(rows, r)
				}
			}
			if len(rows) > 0 {
				out = append(out, rows)
			}
		}
	}
	return out
}

func (c *Comparison) geomeanOf(m *Metric, ratio bool) (Geomean, bool) {
	for _, g := range c.Geomeans() {
		if g.Metric == m && g.Ratio == ratio {
			return g, true
		}
	}
	return Geomean{}, false
}

func fmtGeo(g Geomean, v float64) string {
	if g.Ratio {
		return fmtRatio(v)
	}
	return g.Metric.Format(v)
}

// WriteText writes the comparison as terminal tables, one per metric,
// each ending in a geometric-mean row.
func (c *Comparison) WriteText(w io.Writer, oldName, newName string) error {
	kn := newKeyNamer(c.keys())
	fmt.Fprintf(w, "old: %s\nnew: %s\n", RunLabel(oldName, c.Old), RunLabel(newName, c.New))
	if len(kn.common) > 0 {
		fmt.Fprintf(w, "common: %s\n", strings.Join(kn.common, " "))
	}
	if c.Reference != "" {
		fmt.Fprintf(w, "timing metrics as ratios to the reference cells %q of the same repetition\n", c.Reference)
	}
	fmt.Fprintf(w, "Δ is the change of the medians; ~ means not significant (Mann-Whitney U, p ≥ %g)\n", c.Alpha)
	c.writeWarnings(w, "WARNING: ")
	for _, rows := range c.blocks() {
		m, ratio := rows[0].Metric, rows[0].Ratio
		t := [][]string{{metricTitle(m, ratio), "old", "new", "Δ", ""}}
		for _, r := range rows {
			t = append(t, []string{kn.short(r.Key), r.Format(r.OldMedian), r.Format(r.NewMedian), r.DeltaString(), pString(r)})
		}
		if g, ok := c.geomeanOf(m, ratio); ok && len(rows) > 1 {
			t = append(t, []string{"geomean", fmtGeo(g, g.Old), fmtGeo(g, g.New), pct(g.Delta), ""})
		}
		fmt.Fprintln(w)
		writeTable(w, "", t, 1, 4)
	}
	c.writeScenarios(w, false)
	c.writeLeftovers(w, "", "")
	return nil
}

// WriteMarkdown writes the comparison as Markdown tables.
func (c *Comparison) WriteMarkdown(w io.Writer, oldName, newName string) error {
	kn := newKeyNamer(c.keys())
	fmt.Fprintf(w, "## rpcbench compare\n\n- old: `%s`\n- new: `%s`\n", RunLabel(oldName, c.Old), RunLabel(newName, c.New))
	if len(kn.common) > 0 {
		fmt.Fprintf(w, "- common: `%s`\n", strings.Join(kn.common, " "))
	}
	if c.Reference != "" {
		fmt.Fprintf(w, "- timing metrics as ratios to the reference cells `%s` of the same repetition\n", c.Reference)
	}
	fmt.Fprintf(w, "- Δ is the change of the medians; ~ means not significant (Mann-Whitney U, p ≥ %g)\n", c.Alpha)
	c.writeWarnings(w, "- ⚠ ")
	for _, rows := range c.blocks() {
		m, ratio := rows[0].Metric, rows[0].Ratio
		fmt.Fprintf(w, "\n### %s\n\n| cell | old | new | Δ | p |\n|---|--:|--:|--:|---|\n", metricTitle(m, ratio))
		for _, r := range rows {
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", kn.short(r.Key), r.Format(r.OldMedian), r.Format(r.NewMedian), r.DeltaString(), pString(r))
		}
		if g, ok := c.geomeanOf(m, ratio); ok && len(rows) > 1 {
			fmt.Fprintf(w, "| **geomean** | %s | %s | %s | |\n", fmtGeo(g, g.Old), fmtGeo(g, g.New), pct(g.Delta))
		}
	}
	c.writeScenarios(w, true)
	c.writeLeftovers(w, "\n", "- ")
	return nil
}

func (c *Comparison) writeLeftovers(w io.Writer, sep, bullet string) {
	list := func(title string, keys []string) {
		if len(keys) == 0 {
			return
		}
		fmt.Fprintf(w, "%s\n%s (%d):\n%s", sep, title, len(keys), sep)
		for _, k := range keys {
			fmt.Fprintf(w, "%s%s\n", orIndent(bullet), k)
		}
	}
	list("only in the old run", c.OnlyOld)
	list("only in the new run", c.OnlyNew)
	list("in both runs but not compared", c.NotRun)
	list("scenario runs only in the old run", c.ScenarioOnlyOld)
	list("scenario runs only in the new run", c.ScenarioOnlyNew)
	list("scenario runs in both runs but not compared", c.ScenarioNotRun)
}

func orIndent(bullet string) string {
	if bullet == "" {
		return "  "
	}
	return bullet
}

// changeString renders a check's change: percent for timing metrics and
// relative changes, a signed amount plus percent for deterministic ones.
func (c *Check) changeString() string {
	if c.Metric.Kind == Deterministic {
		d := c.NewMedian - c.OldMedian
		s := fmt.Sprintf("%+.3g", d)
		if c.Metric.Unit == "B" {
			s = fmtBytes(d)
			if d >= 0 {
				s = "+" + s
			}
		}
		if !math.IsNaN(c.Delta) && c.OldMedian != 0 {
			s += " (" + pct(c.Delta) + ")"
		}
		return s
	}
	return pct(c.Delta)
}

// pConf renders a p-value and its confidence.
func pConf(p float64) string {
	if p < 0.0001 {
		return "p<0.0001, >99.99% confidence"
	}
	return fmt.Sprintf("p=%.4f, %.2f%% confidence", p, (1-p)*100)
}

// limitFor renders the limit a check was judged by.
func (c *Check) limitFor(alpha float64) string {
	switch {
	case c.Verdict == Informational && c.Limit.Off:
		return "off"
	case c.Verdict == Informational:
		return "not judged"
	case c.Metric.Kind == Deterministic:
		return fmt.Sprintf("±%s (%s)", trimFloat(math.Round(c.Allowed*1000)/1000), c.Limit)
	}
	return fmt.Sprintf("±%s & p<%s", c.Limit, trimFloat(alpha))
}

// verdictLine explains one regression in a sentence.
func (c *Check) verdictLine() string {
	if s := c.confirmString(); s != "" {
		return c.summary() + "; " + s
	}
	return c.summary()
}

// summary is a check's metric, change, medians and p-value.
func (c *Check) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.Metric.Label, c.changeString())
	if c.Ratio {
		fmt.Fprintf(&b, " (ratio to reference %s → %s", fmtRatio(c.OldMedian), fmtRatio(c.NewMedian))
	} else {
		fmt.Fprintf(&b, " (%s → %s", c.Metric.Format(c.OldMedian), c.Metric.Format(c.NewMedian))
	}
	fmt.Fprintf(&b, ", medians of %d vs %d reps; %s; limit %s)", c.Old.Len(), c.New.Len(), pConf(c.P), c.Limit)
	return b.String()
}

// confirmString says what the re-runs of a timing regression found.
func (c *Check) confirmString() string {
	if len(c.Confirms) == 0 {
		return ""
	}
	var parts []string
	for _, s := range c.Confirms {
		parts = append(parts, fmt.Sprintf("%s (%s)", fmtRatio(s.Median()), pct(s.Median()/c.OldMedian-1)))
	}
	verb := "confirmed by"
	if c.Verdict == Unconfirmed {
		verb = "not reproduced by"
	}
	return fmt.Sprintf("%s a re-run: %s, pooled %s", verb, strings.Join(parts, ", "), strings.Split(pConf(c.PooledP), ",")[0])
}

// unconfirmedNotes describe the timing regressions a re-run did not
// reproduce.
func (g *GateResult) unconfirmedNotes() []string {
	var notes []string
	for _, c := range g.Checks {
		if c.Verdict == Unconfirmed {
			notes = append(notes, fmt.Sprintf("noise, not failing: %s %s; %s", c.Key, c.summary(), c.confirmString()))
		}
	}
	return notes
}

func (g *GateResult) keys() []string {
	return cellKeys(g.Checks, func(c *Check) string { return c.Key })
}

// byCell groups checks by cell in order.
func byCell(checks []*Check) [][]*Check {
	var out [][]*Check
	idx := map[string]int{}
	for _, c := range checks {
		i, ok := idx[c.Key]
		if !ok {
			i = len(out)
			idx[c.Key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], c)
	}
	return out
}

// Headline is the gate's one-line outcome.
func (g *GateResult) Headline() string {
	regs := g.Regressions()
	cells := len(byCell(regs))
	switch {
	case len(regs) == 0 && len(g.Problems) == 0:
		n := 0
		for _, c := range g.Checks {
			if c.Verdict != Informational {
				n++
			}
		}
		return fmt.Sprintf("PASS: no regression (%s over %s)", plural.Count(n, "check"), plural.Count(len(g.keys()), "cell"))
	case len(g.Problems) == 0:
		return fmt.Sprintf("FAIL: %s in %s", plural.Count(len(regs), "regression"), plural.Count(cells, "cell"))
	}
	return fmt.Sprintf("FAIL: %s in %s, %s", plural.Count(len(regs), "regression"), plural.Count(cells, "cell"), plural.Count(len(g.Problems), "problem"))
}

// WriteText writes the gate's finding for a terminal or CI log: the
// outcome, every regression explained, problems and notes; with all, a
// table of every check.
func (g *GateResult) WriteText(w io.Writer, baseName, newName string, all bool) error {
	fmt.Fprintf(w, "rpcbench gate: %s\n", g.Headline())
	fmt.Fprintf(w, "baseline: %s\nnew:      %s\n", RunLabel(baseName, g.Baseline), RunLabel(newName, g.New))
	fmt.Fprintf(w, "timing metrics are judged as ratios to the reference cells %q of the same repetition: a regression needs p < %g (Mann-Whitney U) and the minimum effect; allocations and wire bytes per call are judged on medians within a tolerance\n", g.Reference, g.Alpha)
	if regs := g.Regressions(); len(regs) > 0 {
		fmt.Fprintf(w, "\nREGRESSIONS\n")
		for _, cell := range byCell(regs) {
			fmt.Fprintf(w, "  %s\n", cell[0].Key)
			for _, c := range cell {
				fmt.Fprintf(w, "    %s\n", c.verdictLine())
			}
		}
	}
	if len(g.Problems) > 0 {
		fmt.Fprintf(w, "\nPROBLEMS\n")
		for _, p := range g.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if notes := append(g.unconfirmedNotes(), g.Notes...); len(notes) > 0 {
		fmt.Fprintf(w, "\nnotes:\n")
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if all {
		for _, cell := range byCell(g.Checks) {
			fmt.Fprintf(w, "\n%s", cell[0].Key)
			if ref := g.Refs[cell[0].Key]; ref != "" {
				fmt.Fprintf(w, "  (reference %s)", ref)
			}
			fmt.Fprintln(w)
			t := [][]string{{"metric", "baseline", "new", "change", "p", "limit", "verdict"}}
			for _, c := range cell {
				t = append(t, []string{c.Metric.Label, c.Format(c.OldMedian), c.Format(c.NewMedian),
					c.changeString(), pString(c.Row), c.limitFor(g.Alpha), c.Verdict.String()})
			}
			writeTable(w, "  ", t, 1, 4)
		}
	} else {
		fmt.Fprintf(w, "\n(%s; --all lists every one)\n", plural.Count(len(g.Checks), "check"))
	}
	return nil
}

// WriteMarkdown writes the gate's finding for a pull-request comment or
// a CI job summary: the outcome, a table of regressions, problems, notes,
// and every check in a collapsed section.
func (g *GateResult) WriteMarkdown(w io.Writer, baseName, newName string) error {
	icon := "✅"
	if g.Failed() {
		icon = "❌"
	}
	kn := newKeyNamer(g.keys())
	fmt.Fprintf(w, "## rpcbench gate: %s %s\n\n", icon, g.Headline())
	fmt.Fprintf(w, "- baseline: `%s`\n- new: `%s`\n", RunLabel(baseName, g.Baseline), RunLabel(newName, g.New))
	if len(kn.common) > 0 {
		fmt.Fprintf(w, "- common to every cell: `%s`\n", strings.Join(kn.common, " "))
	}
	fmt.Fprintf(w, "- timing metrics are ratios to the reference cells `%s` of the same repetition; a regression needs p < %g (Mann-Whitney U) and the minimum effect. Allocations and wire bytes per call are judged on medians within a tolerance.\n", g.Reference, g.Alpha)
	if regs := g.Regressions(); len(regs) > 0 {
		fmt.Fprintf(w, "\n### Regressions\n\n| cell | metric | baseline | new | change | confidence | limit |\n|---|---|--:|--:|--:|--:|---|\n")
		for _, c := range regs {
			conf := fmt.Sprintf("%s, n=%d+%d", pConf(c.P), c.Old.Len(), c.New.Len())
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | **%s** | %s | %s |\n", kn.short(c.Key), c.Metric.Label, c.Format(c.OldMedian), c.Format(c.NewMedian), c.changeString(), conf, c.Limit)
		}
	}
	if len(g.Problems) > 0 {
		fmt.Fprintf(w, "\n### Problems\n\n")
		for _, p := range g.Problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
	if notes := append(g.unconfirmedNotes(), g.Notes...); len(notes) > 0 {
		fmt.Fprintf(w, "\n### Notes\n\n")
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	fmt.Fprintf(w, "\n<details><summary>All %d checks</summary>\n\n| cell | metric | baseline | new | change | p | limit | verdict |\n|---|---|--:|--:|--:|---|---|---|\n", len(g.Checks))
	for _, c := range g.Checks {
		v := c.Verdict.String()
		if c.Verdict == Regressed {
			v = "**" + v + "**"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", kn.short(c.Key), c.Metric.Label, c.Format(c.OldMedian), c.Format(c.NewMedian),
			c.changeString(), pString(c.Row), c.limitFor(g.Alpha), v)
	}
	fmt.Fprintf(w, "\n</details>\n")
	return nil
}

// writeTable writes rows as aligned columns: columns before left and from
// right on are left-aligned, the ones between (the numbers) right-aligned.
func writeTable(w io.Writer, indent string, rows [][]string, left, right int) {
	var widths []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, cell := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left || i >= right {
				b.WriteString(cell + pad)
			} else {
				b.WriteString(pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// writeMarkdownTable writes rows, the first the header, as a Markdown
// table, aligned as writeTable aligns them.
func writeMarkdownTable(w io.Writer, rows [][]string, left, right int) {
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, cell := range r {
			cells[j] = strings.ReplaceAll(cell, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		if i > 0 {
			continue
		}
		fmt.Fprint(w, "|")
		for j := range r {
			if j < left || j >= right {
				fmt.Fprint(w, "---|")
			} else {
				fmt.Fprint(w, "--:|")
			}
		}
		fmt.Fprintln(w)
	}
}
