// Package verdict draws a run's conclusions from its own results.json:
// for each objective (latency for one caller, throughput and tail latency
// at the highest concurrency, CPU, allocations and wire bytes per call, in
// each payload size and network profile the run has) the best cell, the
// runner-up and the margin between them with a 95% confidence interval;
// per codec on each message size the fastest, the smallest and the cost of
// JSON; a few plain-words claims built from those figures; and what the
// run cannot judge. Reports render the Verdict; nothing here formats HTML.
//
// The margin's interval. Cells run interleaved, so repetition i of the
// best cell and repetition i of the runner-up shared the machine's state
// at that moment. The margin is therefore computed on the per-repetition
// ratios (runner-up ÷ best for a figure where lower is better, best ÷
// runner-up where higher is better, so a margin above 1 favours the best
// cell), and its interval is the distribution-free confidence interval of
// their median from order statistics (the sign-test interval, as benchstat
// computes it with golang.org/x/perf/benchmath). Pairing by repetition
// cancels the machine's drift, which on a shared 2-core machine is larger
// than most differences worth naming; a bootstrap of the unpaired samples
// would keep the drift in both and, with six values, resample too few
// distinct values to be trusted. Order statistics need no assumption about
// the distribution and give an exact coverage: with six repetitions the
// interval is the range of the six ratios (96.9%); with fewer there is no
// 95% interval at all, and the verdict says so instead of guessing. When
// the interval contains 1 the objective has "no clear winner".
package verdict

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/internal/plural"
)

// Confidence is the level of every interval the verdict gives.
const Confidence = 0.95

// NoisyReference is the spread of the reference cell's throughput across
// repetitions ((max − min) / median) above which the run is called noisy.
const NoisyReference = 0.15

// Verdict is a run's conclusions.
type Verdict struct {
	Objectives []*Objective
	Codecs     []*CodecChoice
	// Claims are the recommendation, in reading order.
	Claims []Claim
	// CannotJudge lists what the verdict left out or could not decide.
	CannotJudge []Caveat
	// MinReps is the fewest repetitions any judged cell had.
	MinReps int
}

// Metric is one figure a cell is judged on, read per repetition.
type Metric struct {
	Name  string
	Unit  string // "calls/s", "time", "µs", "allocs", "B"
	Lower bool   // lower is better
	value func(*results.Figures) (float64, bool)
}

// Value reads the metric from one repetition's figures.
func (m *Metric) Value(f *results.Figures) (float64, bool) {
	if f == nil || f.OK == 0 {
		return 0, false
	}
	v, ok := m.value(f)
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Format writes a value in the metric's unit.
func (m *Metric) Format(v float64) string {
	switch m.Unit {
	case "calls/s":
		return results.FormatRate(v) + " calls/s"
	case "time":
		return results.FormatNs(v)
	case "µs":
		return fmt.Sprintf("%.2f µs", v)
	case "allocs":
		if v < 10 {
			return fmt.Sprintf("%.2f allocs", v)
		}
		return fmt.Sprintf("%.1f allocs", v)
	}
	return fmt.Sprintf("%.0f %s", v, m.Unit)
}

// The metrics objectives judge.
var (
	Throughput = &Metric{Name: "throughput", Unit: "calls/s", value: func(f *results.Figures) (float64, bool) { return f.Throughput, true }}
	P50        = &Metric{Name: "p50", Unit: "time", Lower: true, value: func(f *results.Figures) (float64, bool) { return float64(f.Latency.P50), true }}
	P99        = &Metric{Name: "p99", Unit: "time", Lower: true, value: func(f *results.Figures) (float64, bool) { return float64(f.Latency.P99), true }}
	P999       = &Metric{Name: "p99.9", Unit: "time", Lower: true, value: func(f *results.Figures) (float64, bool) { return float64(f.Latency.P999), true }}
	CPU        = &Metric{Name: "CPU per call", Unit: "µs", Lower: true, value: func(f *results.Figures) (float64, bool) {
		return (f.PerCall.ClientCPUNs + f.PerCall.ServerCPUNs) / 1e3, true
	}}
	Allocs = &Metric{Name: "allocations per call", Unit: "allocs", Lower: true, value: func(f *results.Figures) (float64, bool) {
		return f.PerCall.ClientAllocs + f.PerCall.ServerAllocs, true
	}}
	// Wire bytes are counted at rpcbench's sockets; a peer's are unknown
	// (zero), not free.
	Wire = &Metric{Name: "wire bytes per call", Unit: "B", Lower: true, value: func(f *results.Figures) (float64, bool) {
		w := f.PerCall.WireOut + f.PerCall.WireIn
		return w, w > 0
	}}
)

// Objective is one question the run answers: which cell is best at
// Metric among the cells of Scope.
type Objective struct {
	// ID is unique within the verdict and used as the row's anchor.
	ID     string
	Metric *Metric
	// What describes the question ("throughput at concurrency 64");
	// Scope the cells it is asked of ("payload Small, profile direct").
	What, Scope string
	Best        Entry
	RunnerUp    Entry
	Margin      Margin
	// Clear is false when the interval does not exclude a tie; Why then
	// says why in words.
	Clear bool
	Why   string
	// Reranked says the paired ratios put first the cell whose median is
	// the worse of the two, so a reader comparing the medians is not
	// left to think the table contradicts itself.
	Reranked bool
	// Contenders counts the cells compared.
	Contenders int
	cells      []*results.Cell
}

// Entry is a cell's standing in an objective.
type Entry struct {
	Key, Label string
	// Median over the repetitions, and their number.
	Median float64
	N      int
}

// Margin is how much better one cell is than another: the median of the
// per-repetition ratios (> 1 favours the first) and its interval. Lo and
// Hi are infinite when the repetitions are too few for an interval.
type Margin struct {
	Ratio, Lo, Hi float64
	// N is the number of repetition pairs; Exact says every repetition of
	// both cells gave the same value (a deterministic figure), so the
	// ratio needs no interval.
	N     int
	Exact bool
}

// inverse is the margin of the other cell over the first.
func (m Margin) inverse() Margin {
	return Margin{Ratio: 1 / m.Ratio, Lo: 1 / m.Hi, Hi: 1 / m.Lo, N: m.N, Exact: m.Exact}
}

// Excludes1 reports whether the interval lies wholly above 1.
func (m Margin) Excludes1() bool {
	if m.Exact {
		return m.Ratio != 1
	}
	return m.Lo > 1
}

// String writes the margin as "1.23× [1.10–1.40]".
func (m Margin) String() string {
	switch {
	case math.IsNaN(m.Ratio):
		return "–"
	case m.Exact:
		return fmt.Sprintf("%.2f× (every repetition alike)", m.Ratio)
	case math.IsInf(m.Lo, 0) || math.IsInf(m.Hi, 0):
		return fmt.Sprintf("%.2f× [no 95%% interval from %d repetitions]", m.Ratio, m.N)
	}
	return fmt.Sprintf("%.2f× [%.2f–%.2f]", m.Ratio, m.Lo, m.Hi)
}

// CodecChoice compares the codecs of one slice of cells that differ in
// codec alone.
type CodecChoice struct {
	ID string
	// Scope names the shared dimensions ("tcp, payload Small, c=16").
	Scope   string
	Payload string
	Codecs  int
	// Fastest by throughput (margin over the next codec); Smallest by wire
	// bytes per call (margin over the next codec).
	Fastest, FastestNext   Entry
	FastestMargin          Margin
	Smallest, SmallestNext Entry
	SmallestMargin         Margin
	// JSON, when the slice has a json cell: its throughput against the
	// fastest (ratio < 1 is the throughput lost), and its wire bytes and
	// CPU per call against the fastest codec's.
	JSON        *Entry
	JSONSpeed   Margin // fastest ÷ json throughput
	JSONBytes   float64
	JSONCPU     float64
	FastestCPU  float64
	SmallestKey string
}

// Claim is one sentence of the recommendation and the objective or codec
// row it rests on.
type Claim struct {
	Text string
	// Ref is the ID of the Objective or CodecChoice the claim comes from;
	// Key the cell it names.
	Ref, Key string
}

// Caveat is something the verdict cannot judge.
type Caveat struct {
	Kind string // ERRORS, DEGRADED, BEHIND, NOISY, FEW REPS, GENERATOR
	Key  string
	Text string
}

// Limit reports whether transport names a reference that is not a choice
// a user makes: the raw-socket limits, the gate's bare echo and the
// generator's no-op target. They are measured beside the contenders but
// never win an objective.
func Limit(transport string) bool {
	return strings.HasPrefix(transport, "raw-") || transport == "tcp-echo" || transport == spec.NoopTransport
}

// Anchor is the HTML/Markdown anchor of a cell's row in the reports.
func Anchor(key string) string { return "cell-" + anchorSafe.Replace(key) }

// anchorSafe keeps anchors to letters, digits, "-" and "_", which HTML
// ids and Markdown link targets take as they are.
var anchorSafe = strings.NewReplacer("/", "_", "=", "-", "(", "", ")", "", "@", "-at-", "+", "-", "?", "", " ", "", ".", "_", "%", "pct")

// judged reports whether a cell may compete: it ran, closed loop, without
// errors, not a limit.
func judged(c *results.Cell) bool {
	return c.Ran() && c.Status == results.StatusOK && c.Params.Load.Kind == "closed" && !Limit(c.Params.Transport.Name)
}

// Of computes the verdict of run.
func Of(run *results.Run) *Verdict {
	v := &Verdict{MinReps: math.MaxInt}
	v.caveats(run)
	var cells []*results.Cell
	for _, c := range run.Cells {
		if judged(c) {
			cells = append(cells, c)
			v.MinReps = min(v.MinReps, c.Merged.Reps)
		}
	}
	if len(cells) == 0 {
		v.MinReps = 0
		return v
	}
	if v.MinReps < 6 {
		v.CannotJudge = append(v.CannotJudge, Caveat{"FEW REPS", "", fmt.Sprintf(
			"some cells have only %d repetition(s): a 95%% interval of a median needs at least 6, so no margin below can be called clear (deterministic figures aside)", v.MinReps)})
	}
	for _, sl := range slicesOf(cells) {
		v.objectives(sl)
	}
	v.codecs(cells)
	v.claims(run)
	return v
}

// caveats lists the cells and conditions the verdict cannot judge.
func (v *Verdict) caveats(run *results.Run) {
	for _, c := range run.Cells {
		switch {
		case c.Status == results.StatusSkipped || c.Params.Transport.Name == spec.NoopTransport:
		case c.Status == results.StatusFailed:
			v.CannotJudge = append(v.CannotJudge, Caveat{"FAILED", c.Key, "did not run; left out"})
		case c.Status == results.StatusErrors:
			v.CannotJudge = append(v.CannotJudge, Caveat{"ERRORS", c.Key, fmt.Sprintf("%s failed; left out (a fast cell that fails calls is not a choice)", plural.Count(int(errorsOf(c)), "call"))})
		case c.Status == results.StatusDegraded:
			v.CannotJudge = append(v.CannotJudge, Caveat{"DEGRADED", c.Key, "a worker of the fleet died or stalled during a window, so the load was not the one asked for; left out"})
		case c.Status == results.StatusBehind:
			v.CannotJudge = append(v.CannotJudge, Caveat{"BEHIND", c.Key, "the load generator fell behind its schedule, so its latency understates the truth; left out"})
		}
	}
	if g := run.Manifest.GeneratorCeiling; g != nil && !g.OK {
		v.CannotJudge = append(v.CannotJudge, Caveat{"GENERATOR", g.Key, "the load generator is not far enough above the fastest cell: " + g.Explanation})
	}
	if ref := run.Cell(run.Manifest.Reference); ref != nil && ref.Ran() {
		t := ref.Merged.Throughput
		if t.Median > 0 {
			if spread := (t.Max - t.Min) / t.Median; spread > NoisyReference {
				v.CannotJudge = append(v.CannotJudge, Caveat{"NOISY", ref.Key, fmt.Sprintf(
					"the reference cell's throughput spread %.0f%% across repetitions (over %.0f%%): the machine was busy, so margins of a few percent are not to be trusted even where an interval excludes a tie",
					spread*100, NoisyReference*100)})
			}
		}
	}
}

func errorsOf(c *results.Cell) int64 {
	if c.Merged == nil {
		return 0
	}
	return c.Merged.Errors
}

// slice is the judged cells of one payload and network profile.
type slice struct {
	Payload, Profile string
	Cells            []*results.Cell
	// scope names the payload, and the profile when the run has several.
	scope string
}

// slicesOf splits cells by payload and profile, in run order.
func slicesOf(cells []*results.Cell) []*slice {
	var out []*slice
	idx := map[[2]string]*slice{}
	payloads, profiles := map[string]bool{}, map[string]bool{}
	for _, c := range cells {
		k := [2]string{c.Params.Payload, c.Params.ProfileName()}
		payloads[k[0]], profiles[k[1]] = true, true
		s := idx[k]
		if s == nil {
			s = &slice{Payload: k[0], Profile: k[1]}
			idx[k] = s
			out = append(out, s)
		}
		s.Cells = append(s.Cells, c)
	}
	for _, s := range out {
		s.scope = "payload " + s.Payload
		if len(profiles) > 1 {
			s.scope += ", profile " + s.Profile
		}
	}
	return out
}

// objectives adds the objectives of one slice.
func (v *Verdict) objectives(s *slice) {
	maxC := 0
	var c1 []*results.Cell
	for _, c := range s.Cells {
		maxC = max(maxC, c.Params.Concurrency)
		if c.Params.Concurrency == 1 {
			c1 = append(c1, c)
		}
	}
	var top []*results.Cell
	for _, c := range s.Cells {
		if c.Params.Concurrency == maxC {
			top = append(top, c)
		}
	}
	add := func(cells []*results.Cell, m *Metric, what string, conc int) {
		if o := judge(cells, m); o != nil {
			o.ID = "v-" + anchorSafe.Replace(fmt.Sprintf("%s/c%d/%s/%s", m.Name, conc, s.Payload, s.Profile))
			o.What, o.Scope = what, s.scope
			v.Objectives = append(v.Objectives, o)
		}
	}
	add(c1, P50, "latency for one caller (p50, c=1)", 1)
	add(c1, P99, "latency for one caller (p99, c=1)", 1)
	if maxC > 1 {
		at := fmt.Sprintf(" at c=%d", maxC)
		add(top, Throughput, "throughput"+at, maxC)
		add(top, P99, "tail latency (p99)"+at, maxC)
		add(top, P999, "tail latency (p99.9)"+at, maxC)
	}
	cost := top
	if len(cost) < 2 {
		cost = c1
	}
	if len(cost) > 0 {
		at := fmt.Sprintf(" (c=%d)", cost[0].Params.Concurrency)
		add(cost, CPU, "CPU per call, client + server"+at, cost[0].Params.Concurrency)
		add(cost, Allocs, "allocations per call, client + server"+at, cost[0].Params.Concurrency)
		add(cost, Wire, "bytes on the wire per call"+at, cost[0].Params.Concurrency)
	}
}

// judge picks the best and runner-up of cells by m's median over
// repetitions, and the margin between them; nil with fewer than two
// cells that have m.
func judge(cells []*results.Cell, m *Metric) *Objective {
	type ranked struct {
		c   *results.Cell
		med float64
		n   int
	}
	var rs []ranked
	for _, c := range cells {
		vals := valuesOf(c, m)
		if len(vals) == 0 {
			continue
		}
		rs = append(rs, ranked{c, median(mapValues(vals)), len(vals)})
	}
	if len(rs) < 2 {
		return nil
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if m.Lower {
			return cmp.Compare(a.med, b.med)
		}
		return cmp.Compare(b.med, a.med)
	})
	o := &Objective{Metric: m, Contenders: len(rs), cells: cells}
	// The medians of two noisy cells may rank them one way and the
	// per-repetition ratios the other: the paired ratios decide.
	a, b := rs[0], rs[1]
	o.Margin = MarginOf(a.c, b.c, m)
	if o.Margin.Ratio < 1 {
		a, b = b, a
		o.Margin = o.Margin.inverse()
		o.Reranked = a.med != b.med
	}
	o.Best = Entry{a.c.Key, Label(a.c), a.med, a.n}
	o.RunnerUp = Entry{b.c.Key, Label(b.c), b.med, b.n}
	o.Clear = o.Margin.Excludes1()
	if !o.Clear {
		o.Why = whyUnclear(o.Margin)
	}
	return o
}

func whyUnclear(m Margin) string {
	if m.Exact {
		return "a tie: both gave the same value in every repetition"
	}
	if !m.Exact && (math.IsInf(m.Lo, 0) || math.IsInf(m.Hi, 0)) {
		return fmt.Sprintf("no clear winner: %d repetitions give no 95%% interval (need 6)", m.N)
	}
	return "no clear winner: the 95% interval of the margin includes a tie"
}

// valuesOf reads m from every repetition of c that has it, by repetition
// number.
func valuesOf(c *results.Cell, m *Metric) map[int]float64 {
	out := map[int]float64{}
	for _, r := range c.Reps {
		if r.Status == results.StatusFailed {
			continue
		}
		if x, ok := m.Value(r.Figures); ok {
			out[r.Rep] = x
		}
	}
	return out
}

func mapValues(m map[int]float64) []float64 {
	out := make([]float64, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// MarginOf is how much better a is than b at m: the median of the
// per-repetition ratios over the repetitions both have, with its
// order-statistic interval (see the package comment).
func MarginOf(a, b *results.Cell, m *Metric) Margin {
	av, bv := valuesOf(a, m), valuesOf(b, m)
	var ratios []float64
	for rep, x := range av {
		y, ok := bv[rep]
		if !ok {
			continue
		}
		r := y / x // lower is better: b over a
		if !m.Lower {
			r = x / y
		}
		if !math.IsNaN(r) && !math.IsInf(r, 0) {
			ratios = append(ratios, r)
		}
	}
	if len(ratios) == 0 {
		return Margin{Ratio: math.NaN(), Lo: math.Inf(-1), Hi: math.Inf(1)}
	}
	if constant(mapValues(av)) && constant(mapValues(bv)) {
		return Margin{Ratio: ratios[0], Lo: ratios[0], Hi: ratios[0], N: len(ratios), Exact: true}
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(ratios, &benchmath.DefaultThresholds), Confidence)
	return Margin{Ratio: s.Center, Lo: s.Lo, Hi: s.Hi, N: len(ratios)}
}

func constant(v []float64) bool {
	return len(v) > 0 && slices.Min(v) == slices.Max(v)
}

// median of v, which it sorts.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Label names a cell by what a user chooses: transport and codec, the
// compressor and connections when they are not the default.
func Label(c *results.Cell) string {
	p := c.Params
	l := p.Transport.String() + " " + p.Codec
	if p.Compression != "" && p.Compression != "none" {
		l += "+" + p.Compression
	}
	if p.Connections > 1 {
		l += fmt.Sprintf(" conns=%d", p.Connections)
	}
	return l
}
