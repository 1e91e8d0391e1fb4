package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/netem"
)

// profileDim is the profile's index in spec.DimensionNames.
const profileDim = 7

// profileView lays a run's cells out by network profile: one row per
// combination of the other dimensions, one column per profile.
type profileView struct {
	Profiles []string
	Rows     []profileRow
	// Model is what the emulator does, from the manifest.
	Model string
	run   *results.Run
}

type profileRow struct {
	Label string
	Cells []*results.Cell // by profile; nil where the combination did not run
}

// profilesOf returns the view, or nil when the run has fewer than two
// profiles.
func profilesOf(run *results.Run) *profileView {
	g := &group{}
	for _, c := range run.Cells {
		if c.Ran() && !isNoop(c) && c.Params.Load.Kind != "sweep" {
			g.Cells = append(g.Cells, c)
		}
	}
	v := &profileView{Model: run.Manifest.ProfileModel, run: run}
	for _, c := range g.Cells {
		if p := c.Params.ProfileName(); !slices.Contains(v.Profiles, p) {
			v.Profiles = append(v.Profiles, p)
		}
	}
	if len(v.Profiles) < 2 {
		return nil
	}
	g.findVarying()
	g.Varying = slices.DeleteFunc(g.Varying, func(i int) bool { return i == profileDim })
	if len(g.Varying) == 0 {
		g.Varying = []int{0}
	}
	byLabel := map[string]int{}
	for _, c := range g.Cells {
		l := g.label(c)
		i, ok := byLabel[l]
		if !ok {
			i = len(v.Rows)
			byLabel[l] = i
			v.Rows = append(v.Rows, profileRow{Label: l, Cells: make([]*results.Cell, len(v.Profiles))})
		}
		v.Rows[i].Cells[slices.Index(v.Profiles, c.Params.ProfileName())] = c
	}
	return v
}

// profileColumns are the figures shown per profile.
var profileColumns = []column{mainColumns[1], mainColumns[2], mainColumns[3], mainColumns[0]}

// settings describes profile i for a reader.
func (v *profileView) settings(i int) string {
	name := v.Profiles[i]
	switch name {
	case netem.NameDirect:
		return "no relay"
	case netem.NameRelay:
		return "relay, no impairment: the relay's own cost"
	}
	if p := v.run.Manifest.Profiles[name]; p != nil {
		return p.Settings
	}
	return ""
}

// table writes profile i's cells side by side as rows of text cells.
func (v *profileView) table(i int) (head []string, rows [][]string) {
	head = []string{"cell", "p50", "p99", "p99.9", "calls/s", "errors", "relay: datagrams lost / TCP stalls"}
	for _, r := range v.Rows {
		c := r.Cells[i]
		if c == nil {
			continue
		}
		row := []string{r.Label}
		for _, col := range profileColumns {
			x, _ := col.value(c)
			row = append(row, col.fmt(x))
		}
		row = append(row, fmt.Sprint(c.Merged.Errors), relayLosses(c))
		rows = append(rows, row)
	}
	return head, rows
}

// relayLosses sums what the relay lost or stalled over the repetitions.
func relayLosses(c *results.Cell) string {
	var lost, stalls, n int64
	for _, rr := range c.Reps {
		if s := rr.Relay; s != nil {
			lost += s.Dropped + s.QueueDrops
			stalls += s.Recovered
			n++
		}
	}
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%d / %d", lost, stalls)
}

// overhead compares the relay profile with direct, when both ran:
// p50 and throughput as ratios.
func (v *profileView) overhead() (head []string, rows [][]string) {
	d, r := slices.Index(v.Profiles, netem.NameDirect), slices.Index(v.Profiles, netem.NameRelay)
	if d < 0 || r < 0 {
		return nil, nil
	}
	head = []string{"cell", "p50 direct", "p50 relay", "p50 ×", "calls/s direct", "calls/s relay", "calls/s ×"}
	for _, row := range v.Rows {
		a, b := row.Cells[d], row.Cells[r]
		if a == nil || b == nil {
			continue
		}
		p50a, p50b := float64(a.Merged.Latency.P50), float64(b.Merged.Latency.P50)
		ta, tb := a.Merged.Throughput.Median, b.Merged.Throughput.Median
		rows = append(rows, []string{row.Label, results.FormatNs(p50a), results.FormatNs(p50b), fmtRatio(p50b, p50a), results.FormatRate(ta), results.FormatRate(tb), fmtRatio(tb, ta)})
	}
	return head, rows
}

func fmtRatio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// chart draws p99 against profile, one line per row.
func (v *profileView) chart() template.HTML {
	var ss []series
	lo, hi := math.Inf(1), 0.0
	for i, r := range v.Rows {
		s := series{name: r.Label, color: color(i), marks: true}
		for j, c := range r.Cells {
			if c == nil {
				continue
			}
			p99 := float64(c.Merged.Latency.P99)
			s.pts = append(s.pts, [2]float64{float64(j), p99})
			s.tips = append(s.tips, fmt.Sprintf("%s: p99 %s", v.Profiles[j], results.FormatNs(p99)))
			lo, hi = math.Min(lo, p99), math.Max(hi, p99)
		}
		ss = append(ss, s)
	}
	if hi == 0 {
		return ""
	}
	var xt []tick
	for i, p := range v.Profiles {
		xt = append(xt, tick{float64(i), p})
	}
	ylo, yhi, yt := latencyTicks(lo, hi)
	ch := &lineChart{title: "Tail latency (p99) by network profile",
		x:      axis{label: "network profile", min: -0.3, max: float64(len(v.Profiles)) - 0.7, ticks: xt},
		y:      axis{label: "p99 latency (merged over repetitions, log)", min: ylo, max: yhi, log: true, ticks: yt},
		series: ss, note: "One line per transport (and the other dimensions that vary); profiles in spec order."}
	return ch.svg()
}

// writeProfilesMarkdown writes the network profiles section of report.md.
func writeProfilesMarkdown(w io.Writer, run *results.Run) {
	v := profilesOf(run)
	if v == nil {
		return
	}
	fmt.Fprintf(w, "## Network profiles\n\nEvery transport under each profile, side by side. Model: %s.\n\n", mdEscape(v.Model))
	mdTable := func(head []string, rows [][]string) {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
		}
		fmt.Fprintln(w)
	}
	if head, rows := v.overhead(); rows != nil {
		fmt.Fprintf(w, "### The relay's own cost (zero-impairment relay against direct)\n\n")
		mdTable(head, rows)
	}
	for i, p := range v.Profiles {
		fmt.Fprintf(w, "### %s (%s)\n\n", p, v.settings(i))
		mdTable(v.table(i))
	}
}

// htmlProfiles is the network profiles section of report.html.
type htmlProfiles struct {
	Model    string
	Overhead htmlTable
	Tables   []htmlTable
	Chart    template.HTML
}

type htmlTable struct {
	Title string
	Head  []string
	Rows  [][]string
}

func profilesHTML(run *results.Run) *htmlProfiles {
	v := profilesOf(run)
	if v == nil {
		return nil
	}
	h := &htmlProfiles{Model: v.Model, Chart: v.chart()}
	if head, rows := v.overhead(); rows != nil {
		h.Overhead = htmlTable{Title: "The relay's own cost (zero-impairment relay against direct)", Head: head, Rows: rows}
	}
	for i, p := range v.Profiles {
		head, rows := v.table(i)
		h.Tables = append(h.Tables, htmlTable{Title: fmt.Sprintf("%s (%s)", p, v.settings(i)), Head: head, Rows: rows})
	}
	return h
}
