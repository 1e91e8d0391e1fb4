// Package report renders a run's results.json into the files a reader
// opens: report.md (tables for a terminal or a code host), report.html
// (one self-contained file with SVG charts, no network), one .hgrm file
// per cell (HdrHistogram's percentile distribution), and bench.txt (the Go
// benchmark format, for benchstat). Everything here is computed from
// results.json alone, so `rpcbench report DIR` re-renders a run.
package report

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/internal/plural"
)

// WriteAll writes every report of run into dir.
func WriteAll(dir string, run *results.Run) error {
	files := []struct {
		name  string
		write func(io.Writer, *results.Run) error
	}{
		{"report.md", Markdown},
		{"report.html", HTML},
		{"bench.txt", BenchFormat},
	}
	for _, f := range files {
		if err := WriteFile(filepath.Join(dir, f.name), func(w io.Writer) error { return f.write(w, run) }); err != nil {
			return err
		}
	}
	return WriteHgrms(filepath.Join(dir, "hgrm"), run)
}

// WriteFile creates path and fills it with write, reporting a failed close.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// group is the cells of one spec group, in run order.
type group struct {
	Name  string
	Cells []*results.Cell
	// Varying are the dimensions (indexes into spec.DimensionNames) whose
	// values differ within the group; the others are shown once.
	Varying []int
}

// groups returns the groups with at least one cell that ran, split into
// closed/open cells and sweep cells.
func groups(run *results.Run, sweeps bool) []*group {
	var out []*group
	byName := map[string]*group{}
	for _, c := range run.Cells {
		if !c.Ran() && c.Status != results.StatusFailed {
			continue
		}
		if (c.Params.Load.Kind == "sweep") != sweeps {
			continue
		}
		for _, name := range append([]string{c.Group}, c.Params.AlsoIn...) {
			g := byName[name]
			if g == nil {
				g = &group{Name: name}
				byName[name] = g
				out = append(out, g)
			}
			g.Cells = append(g.Cells, c)
		}
	}
	for _, g := range out {
		g.findVarying()
	}
	return out
}

// findVarying sets Varying from the group's cells.
func (g *group) findVarying() {
	g.Varying = nil
	for i := range spec.DimensionNames {
		seen := map[string]bool{}
		for _, c := range g.Cells {
			seen[c.Params.Values()[i]] = true
		}
		if len(seen) > 1 {
			g.Varying = append(g.Varying, i)
		}
	}
	if len(g.Varying) == 0 {
		g.Varying = []int{0}
	}
}

var shortDim = []string{"", "", "", "", "c=", "conns=", "", "", ""}

// label names a cell by the dimensions that vary in its group.
func (g *group) label(c *results.Cell) string {
	v := c.Params.Values()
	parts := make([]string, 0, len(g.Varying))
	for _, i := range g.Varying {
		parts = append(parts, shortDim[i]+v[i])
	}
	return strings.Join(parts, " ")
}

// fixed describes the dimensions that do not vary in the group.
func (g *group) fixed() string {
	if len(g.Cells) == 0 {
		return ""
	}
	v := g.Cells[0].Params.Values()
	var parts []string
	for i, name := range spec.DimensionNames {
		if !slices.Contains(g.Varying, i) && v[i] != "" {
			parts = append(parts, name+"="+v[i])
		}
	}
	return strings.Join(parts, ", ")
}

// columns of the main tables: how to read a value and whether lower is
// better.
type column struct {
	head  string
	get   func(*results.Cell) (float64, bool) // called only on cells that ran
	fmt   func(float64) string
	lower bool
}

// value reads col from c; ok is false if c did not run or the column does
// not apply to it.
func (col column) value(c *results.Cell) (float64, bool) {
	if !c.Ran() {
		return 0, false
	}
	return col.get(c)
}

var mainColumns = []column{
	{"calls/s", func(c *results.Cell) (float64, bool) { return c.Merged.Throughput.Median, true }, results.FormatRate, false},
	{"p50", func(c *results.Cell) (float64, bool) { return float64(c.Merged.Latency.P50), true }, results.FormatNs, true},
	{"p99", func(c *results.Cell) (float64, bool) { return float64(c.Merged.Latency.P99), true }, results.FormatNs, true},
	{"p99.9", func(c *results.Cell) (float64, bool) { return float64(c.Merged.Latency.P999), true }, results.FormatNs, true},
	// An external target's server is not measured: its sums are unknown
	// ("–"); the client's figures are in the external targets section.
	{"CPU µs/call (client+server)", func(c *results.Cell) (float64, bool) {
		p := c.Merged.PerCall
		return (p.ClientCPUNs + p.ServerCPUNs) / 1e3, !isNoop(c) && p.ServerUnknown == ""
	}, fmtF2, true},
	{"allocs/call (client+server)", func(c *results.Cell) (float64, bool) {
		p := c.Merged.PerCall
		return p.ClientAllocs + p.ServerAllocs, !isNoop(c) && p.ServerUnknown == ""
	}, fmtF1, true},
	{"wire B/call (req+resp)", func(c *results.Cell) (float64, bool) {
		// Peers move bytes outside rpcbench's socket counters: none counted
		// means unknown, not zero.
		w := c.Merged.PerCall.WireOut + c.Merged.PerCall.WireIn
		return w, !isNoop(c) && w > 0
	}, fmtF0, true},
}

func isNoop(c *results.Cell) bool { return c.Params.Transport.Name == spec.NoopTransport }

// best returns, per column, the best value among the cells (noop cells
// excluded: they are the generator, not a contender).
func best(cells []*results.Cell, cols []column) []float64 {
	out := make([]float64, len(cols))
	for i, col := range cols {
		have := false
		for _, c := range cells {
			if isNoop(c) || c.Status == results.StatusFailed {
				continue
			}
			v, ok := col.value(c)
			if !ok {
				continue
			}
			if !have || col.lower && v < out[i] || !col.lower && v > out[i] {
				out[i], have = v, true
			}
		}
		if !have {
			out[i] = math.NaN()
		}
	}
	return out
}

func fmtF0(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmtF1(v float64) string { return fmt.Sprintf("%.1f", v) }
func fmtF2(v float64) string { return fmt.Sprintf("%.2f", v) }

func fmtBytes(v uint64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(v)/(1<<10))
	}
	return fmt.Sprintf("%d B", v)
}

// reference returns the run's reference cell if it ran.
func reference(run *results.Run) *results.Cell {
	c := run.Cell(run.Manifest.Reference)
	if c == nil || !c.Ran() {
		return nil
	}
	return c
}

// problem is one line of the problems section.
type problem struct {
	Kind string // ERRORS, FAILED, DEGRADED, BEHIND, GENERATOR
	Key  string
	Text string
}

// problems lists everything that makes a number less than true.
func problems(run *results.Run) []problem {
	var out []problem
	for _, c := range run.Cells {
		switch {
		case c.Status == results.StatusFailed:
			out = append(out, problem{"FAILED", c.Key, strings.Join(c.Failures, "; ")})
			continue
		case c.Status == results.StatusDegraded:
			// A worker of a fleet died or stalled: those repetitions are
			// left out of the cell's figures.
			out = append(out, problem{"DEGRADED", c.Key, strings.Join(c.Failures, "; ")})
			continue
		case !c.Ran():
			continue
		}
		m := c.Merged
		if m.Errors > 0 {
			var codes []string
			for _, k := range sortedKeys(m.ErrorsByCode) {
				codes = append(codes, fmt.Sprintf("%s: %d", k, m.ErrorsByCode[k]))
			}
			msg := fmt.Sprintf("%s failed (%s)", plural.Count(int(m.Errors), "call"), strings.Join(codes, ", "))
			if s := firstSample(c); s != "" {
				msg += ` — first: "` + s + `"`
			}
			out = append(out, problem{"ERRORS", c.Key, msg})
		}
		if len(c.Failures) > 0 {
			out = append(out, problem{"FAILED REPS", c.Key, strings.Join(c.Failures, "; ")})
		}
		if c.Params.Load.Kind == "sweep" {
			held, first := 0, ""
			for _, rr := range c.Reps {
				if rr.Sweep == nil {
					continue
				}
				for _, st := range rr.Sweep.Steps {
					if st.Held {
						held++
					} else if first == "" {
						first = fmt.Sprintf("%.0f calls/s: %s", st.TargetRate, st.Reason)
					}
				}
			}
			if held == 0 {
				out = append(out, problem{"SWEEP", c.Key, "no step held, even on its re-run, so the sweep found no sustainable rate; first failing step " + first})
			}
			for _, rr := range c.Reps {
				if rr.Sweep == nil {
					continue
				}
				if _, nm := results.Sustained(rr.Sweep.Steps); len(nm) > 0 {
					out = append(out, problem{"NON-MONOTONIC", c.Key, fmt.Sprintf("rep %d: %s", rr.Rep+1, results.NonMonotonicMeaning)})
					break
				}
			}
			if pc := run.Manifest.PacerCeiling; pc != nil && !pc.OK {
				var above []string
				for _, r := range sweepSteps(c, pc) {
					if r.suspect {
						above = append(above, r.rate)
					}
				}
				if len(above) > 0 {
					out = append(out, problem{"PACER", c.Key, fmt.Sprintf("steps %s are above the %s calls/s the pacer was shown to keep: their latency may be the generator's", strings.Join(above, ", "), results.FormatRate(pc.HeldRate))})
				}
			}
		}
		if m.Behind {
			note := ""
			for _, rr := range c.Reps {
				if rr.Figures != nil && rr.Figures.Open != nil && rr.Figures.Open.Behind {
					note = rr.Figures.Open.Note
					break
				}
			}
			out = append(out, problem{"BEHIND", c.Key, "the load generator fell behind its schedule: " + note})
		}
	}
	if pc := run.Manifest.PacerCeiling; pc != nil && !pc.OK {
		out = append(out, problem{"PACER", pc.Key, pc.Explanation})
		for _, c := range run.Cells {
			if c.Ran() && c.Params.Load.Kind == "open" && pc.Suspect(c.Params.Load.Rate) {
				out = append(out, problem{"PACER", c.Key, fmt.Sprintf("its rate is above the %s calls/s the pacer was shown to keep: its latency may be the generator's", results.FormatRate(pc.HeldRate))})
			}
		}
	}
	if g := run.Manifest.GeneratorCeiling; g != nil && !g.OK {
		out = append(out, problem{"GENERATOR", g.Key, g.Explanation})
	}
	// A scenario's failed calls are its figures; a run that could not
	// happen, or a fault that could not be applied, is a problem.
	for _, sc := range run.Scenarios {
		for _, r := range sc.Runs {
			key := fmt.Sprintf("scenario %s, balancer %s, retries %s", sc.Name, r.Balancer, sc.RunLabel(r))
			if r.Status == results.StatusFailed {
				out = append(out, problem{"FAILED", key, r.Error})
			}
			for _, f := range r.Faults {
				if f.Error != "" {
					out = append(out, problem{"FAULT", key, f.Label() + " not applied: " + f.Error})
				}
			}
		}
	}
	return out
}

func firstSample(c *results.Cell) string {
	for _, rr := range c.Reps {
		if rr.Figures == nil {
			continue
		}
		for _, k := range sortedKeys(rr.Figures.ErrorSamples) {
			return k + ": " + rr.Figures.ErrorSamples[k]
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// FileName turns a cell key into a file name: "/" becomes "_", "=" "-",
// parentheses and "@" and "+" are kept out of the way.
func FileName(key string) string {
	r := strings.NewReplacer("/", "_", "=", "-", "(", "", ")", "", "@", "-at-", "+", "-", "?", "", " ", "")
	return r.Replace(key)
}

// manifestRows are the manifest's facts in reading order.
func manifestRows(run *results.Run) [][2]string {
	m := run.Manifest
	p := m.Pinning
	pin := "no"
	if p.Enabled {
		pin = fmt.Sprintf("client CPUs %s (GOMAXPROCS %d), server CPUs %s (GOMAXPROCS %d, seen %s)", p.ClientCPUs, p.ClientGOMAXPROCS, p.ServerCPUs, p.ServerGOMAXPROCS, p.ServerCPUsSeen)
	}
	if p.Note != "" {
		pin += " — " + p.Note
	}
	sysmon := "defaults (sysmon sleeps deeply whenever a process idles, and its next system call wakes it)"
	if p.GODEBUG != "" {
		sysmon = "GODEBUG " + p.GODEBUG + " for the load process and the servers it started: keeps the runtime's sysmon out of deep sleep, which costs a wake-up on a pinned process's CPU after every idle moment"
	}
	commit := m.Commit
	if m.Dirty {
		commit += " (with local changes)"
	}
	sp := m.Spec
	window := sp.Duration.D().String()
	if sp.Calls > 0 {
		window = fmt.Sprintf("%d calls", sp.Calls)
	}
	warm := sp.Warmup.D().String()
	if sp.WarmupCalls > 0 {
		warm = fmt.Sprintf("%d calls", sp.WarmupCalls)
	}
	rows := [][2]string{
		{"run", run.RunID},
		{"spec", m.SpecName + " (" + m.SpecPath + ")"},
		{"started", m.Started.UTC().Format(time.RFC3339)},
		{"finished", m.Finished.UTC().Format(time.RFC3339)},
		{"commit", commit},
		{"go", m.GoVersion},
		{"cpu", fmt.Sprintf("%s, %d logical CPUs", m.CPUModel, m.Cores)},
		{"kernel", m.Kernel},
		{"server", m.ServerMode},
		{"pinning", pin},
		{"Go runtime", sysmon},
		{"repetitions", fmt.Sprint(sp.Repetitions)},
		{"warm-up / window", warm + " / " + window},
		{"client", m.ClientConfig},
		{"transports built in", strings.Join(m.Transports, ", ")},
		{"codecs built in", strings.Join(m.Codecs, ", ")},
		{"compressors built in", strings.Join(m.Compressors, ", ")},
		{"reference cell", m.Reference},
	}
	rows = append(rows, hostRows(m)...)
	rows = append(rows, fleetRows(run)...)
	if g := m.GeneratorCeiling; g != nil {
		rows = append(rows, [2]string{"generator ceiling", g.Explanation})
	}
	for _, name := range sortedKeys(m.Profiles) {
		rows = append(rows, [2]string{"network profile " + name, m.Profiles[name].Settings})
	}
	if m.ProfileModel != "" {
		rows = append(rows, [2]string{"network model", m.ProfileModel})
	}
	for _, n := range m.Notes {
		rows = append(rows, [2]string{"note", n})
	}
	var mods []string
	for _, k := range sortedKeys(m.Modules) {
		mods = append(mods, k+" "+m.Modules[k])
	}
	rows = append(rows, [2]string{"modules", strings.Join(mods, ", ")})
	return rows
}
