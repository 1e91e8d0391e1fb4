// Package compare compares two harness runs cell by cell, and gates CI on
// regressions.
//
// Compare is benchstat for results.json: for every cell in both runs and
// every metric, the old and new medians over the repetitions, the change,
// and a Mann-Whitney U test over the repetitions ("~" when the change is
// not significant), with a geometric-mean row per metric. Resilience
// scenarios in both runs are shown old → new for information
// (scenarios.go); the gate does not judge them.
//
// Gate decides whether a new run regressed against a baseline and says
// which cells, which metrics, by how much and with what confidence:
//
//   - Timing metrics (throughput, latency percentiles, CPU per call) are
//     judged as ratios to a reference cell measured in the same repetition
//     of the same run: cells run interleaved, so a rep's reference shares
//     the machine's state at that moment, and a slower or busier machine
//     moves both. A regression needs the ratio's change to be significant
//     (U test, alpha 0.05) and at least a minimum effect (DefaultLimits),
//     and a re-run of the cell must reproduce it (confirm.go).
//   - Deterministic metrics (allocations and bytes on the wire per call)
//     are judged on their medians against a small absolute-plus-relative
//     tolerance: any increase beyond it fails.
//   - A cell of the baseline missing from the new run, a cell that failed,
//     and calls that failed where the baseline had none fail the gate too.
//
// The reference must not run the code the gate guards, or a regression
// that slows every call alike would cancel out; see package echoref.
package compare

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"rpcbench/harness/results"
)

// Load reads a run from a run directory or a results file.
func Load(path string) (*results.Run, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return results.ReadDir(path)
	}
	return results.Read(path)
}

// Sample is one metric of one cell over the repetitions that have it.
type Sample struct {
	Reps   []int     `json:"reps"`
	Values []float64 `json:"values"`
}

// Median of the values.
func (s Sample) Median() float64 { return median(s.Values) }

// Len is the number of values.
func (s Sample) Len() int { return len(s.Values) }

// sampleOf reads m from every repetition of c that has it.
func sampleOf(c *results.Cell, m *Metric) Sample {
	var s Sample
	for _, r := range c.Reps {
		if v, ok := m.Value(r); ok {
			s.Reps = append(s.Reps, r.Rep)
			s.Values = append(s.Values, v)
		}
	}
	return s
}

// ratioSample divides each repetition's value of m in c by the reference
// cell's value in the same repetition. Repetitions either cell lacks, or
// where the reference is zero, are left out.
func ratioSample(c, ref *results.Cell, m *Metric) Sample {
	refVals := map[int]float64{}
	rm := m.refMetric()
	for _, r := range ref.Reps {
		if v, ok := rm.Value(r); ok && v > 0 {
			refVals[r.Rep] = v
		}
	}
	var s Sample
	for _, r := range c.Reps {
		v, ok := m.Value(r)
		rv, rok := refVals[r.Rep]
		if ok && rok {
			s.Reps = append(s.Reps, r.Rep)
			s.Values = append(s.Values, v/rv)
		}
	}
	return s
}

// Row compares one metric of one cell.
type Row struct {
	Key    string
	Metric *Metric
	// Ratio: the samples are ratios to the reference cells OldRef and
	// NewRef of each run, repetition by repetition.
	Ratio          bool
	OldRef, NewRef string
	Old, New       Sample
	// Medians of Old and New, and Delta = NewMedian/OldMedian - 1 (NaN
	// when OldMedian is 0).
	OldMedian, NewMedian float64
	Delta                float64
	// P is the two-sided U test's p-value; Significant is P < alpha.
	P           float64
	Significant bool
	Warnings    []string
}

// metricRow compares m in an old and a new cell: as ratios to their
// references when both are given, else as measured. It is nil when either
// side has no samples.
func metricRow(o, oref, n, nref *results.Cell, m *Metric, alpha float64) *Row {
	ratio := oref != nil && nref != nil
	var xs, ys Sample
	if ratio {
		xs, ys = ratioSample(o, oref, m), ratioSample(n, nref, m)
	} else {
		xs, ys = sampleOf(o, m), sampleOf(n, m)
	}
	if xs.Len() == 0 || ys.Len() == 0 {
		return nil
	}
	r := newRow(o.Key, m, xs, ys, alpha)
	if ratio {
		r.Ratio, r.OldRef, r.NewRef = true, oref.Key, nref.Key
	}
	return r
}

func newRow(key string, m *Metric, old, new Sample, alpha float64) *Row {
	r := &Row{Key: key, Metric: m, Old: old, New: new, OldMedian: old.Median(), NewMedian: new.Median()}
	r.Delta = math.NaN()
	if r.OldMedian != 0 {
		r.Delta = r.NewMedian/r.OldMedian - 1
	} else if r.NewMedian == 0 {
		r.Delta = 0
	}
	r.P, r.Warnings = UTest(old.Values, new.Values, alpha)
	r.Significant = r.P < alpha
	return r
}

// Format renders a median of the row.
func (r *Row) Format(v float64) string {
	if r.Ratio {
		return fmtRatio(v)
	}
	return r.Metric.Format(v)
}

// DeltaString is the change in percent, "~" when not significant.
func (r *Row) DeltaString() string {
	if !r.Significant {
		return "~"
	}
	return pct(r.Delta)
}

func pct(d float64) string {
	switch {
	case math.IsNaN(d):
		return "?"
	case d == 0:
		return "0%"
	}
	return fmt.Sprintf("%+.1f%%", d*100)
}

// Options configure Compare.
type Options struct {
	// Metrics to compare; nil means every metric.
	Metrics []*Metric
	// Alpha is the significance level; default 0.05.
	Alpha float64
	// Reference, when set, compares timing metrics as ratios to the
	// reference cells it names (see Gate's Reference) instead of as
	// absolute values.
	Reference string
}

// Comparison is the result of Compare.
type Comparison struct {
	Old, New *results.Run
	Alpha    float64
	// Rows are grouped by metric (in Metrics order), cells in the old
	// run's order.
	Rows []*Row
	// OnlyOld and OnlyNew list the cells present in one run only;
	// NotRun the cells in both that have no figures in one of them.
	OnlyOld, OnlyNew []string
	NotRun           []string
	// Reference is the reference fragment used for ratios, if any.
	Reference string
	// Warnings say when the samples cannot reach significance (power.go)
	// and when the runs were not interleaved in time (apart.go).
	Warnings []string
	// Scenarios compare the resilience scenarios run in both, for
	// information (see scenarios.go); ScenarioOnlyOld and ScenarioOnlyNew
	// list the scenario runs present in one run only, ScenarioNotRun those
	// in both that could not run in one.
	Scenarios                        []*ScenarioComparison
	ScenarioOnlyOld, ScenarioOnlyNew []string
	ScenarioNotRun                   []string
}

// Compare compares every cell and metric of old and new.
func Compare(old, new *results.Run, opts Options) (*Comparison, error) {
	if opts.Alpha == 0 {
		opts.Alpha = 0.05
	}
	if opts.Metrics == nil {
		opts.Metrics = Metrics
	}
	cmp := &Comparison{Old: old, New: new, Alpha: opts.Alpha, Reference: opts.Reference}
	pairs := matchCells(old, new, &cmp.OnlyOld, &cmp.OnlyNew)
	cmp.compareScenarios()
	var oldRefs, newRefs refIndex
	if opts.Reference != "" {
		var err error
		if oldRefs, err = findRefs(old, opts.Reference); err != nil {
			return nil, err
		}
		if newRefs, err = findRefs(new, opts.Reference); err != nil {
			return nil, err
		}
	}
	var ran [][2]*results.Cell
	for _, p := range pairs {
		if why := notRun(p[0], p[1]); why != "" {
			cmp.NotRun = append(cmp.NotRun, p[0].Key+": "+why)
			continue
		}
		ran = append(ran, p)
	}
	for _, m := range opts.Metrics {
		for _, p := range ran {
			oc, nc := p[0], p[1]
			var or, nr *results.Cell
			if m.Kind == Timing && opts.Reference != "" && !oldRefs.isRef(oc.Key) {
				or, nr = oldRefs.nearest(oc), newRefs.nearest(nc)
			}
			if r := metricRow(oc, or, nc, nr, m, opts.Alpha); r != nil {
				cmp.Rows = append(cmp.Rows, r)
			}
		}
	}
	cmp.Warnings = cmp.powerWarnings()
	if w := apartWarning(old, new); w != "" && len(cmp.Rows) > 0 {
		cmp.Warnings = append(cmp.Warnings, w)
	}
	return cmp, nil
}

// matchCells pairs the cells of a and b by key, in a's order, and lists
// the cells found in one run only.
func matchCells(a, b *results.Run, onlyA, onlyB *[]string) [][2]*results.Cell {
	key := func(c *results.Cell) string { return c.Key }
	return matchBy(a.Cells, b.Cells, key, key, onlyA, onlyB)
}

// matchBy pairs the items of a and b with the same key, in a's order, and
// lists by name the items found in one only.
func matchBy[T any, K comparable](a, b []T, key func(T) K, name func(T) string, onlyA, onlyB *[]string) [][2]T {
	inA, inB := map[K]bool{}, map[K]T{}
	for _, y := range b {
		if _, dup := inB[key(y)]; !dup {
			inB[key(y)] = y
		}
	}
	var pairs [][2]T
	for _, x := range a {
		inA[key(x)] = true
		if y, ok := inB[key(x)]; ok {
			pairs = append(pairs, [2]T{x, y})
		} else {
			*onlyA = append(*onlyA, name(x))
		}
	}
	for _, y := range b {
		if !inA[key(y)] {
			*onlyB = append(*onlyB, name(y))
		}
	}
	return pairs
}

// notRun says why a pair of cells has nothing to compare, or "".
func notRun(a, b *results.Cell) string {
	switch {
	case a.Status == results.StatusSkipped && b.Status == results.StatusSkipped:
		return "skipped in both runs (" + a.SkipReason + ")"
	case !ran(a) && !ran(b):
		return "did not run in either run"
	case !ran(a):
		return "did not run in the old run (" + describe(a) + ")"
	case !ran(b):
		return "did not run in the new run (" + describe(b) + ")"
	}
	return ""
}

// ran reports whether some repetition of c has figures.
func ran(c *results.Cell) bool {
	for _, r := range c.Reps {
		if r.Status != results.StatusFailed && r.Figures != nil {
			return true
		}
	}
	return false
}

func describe(c *results.Cell) string {
	switch {
	case c.Status == results.StatusSkipped:
		return "skipped: " + c.SkipReason
	case len(c.Failures) > 0:
		return c.Status + ": " + c.Failures[0]
	}
	for _, r := range c.Reps {
		if r.Error != "" {
			return c.Status + ": " + r.Error
		}
	}
	return c.Status
}

// refIndex holds a run's reference cells.
type refIndex []*results.Cell

// findRefs returns the cells of run whose keys contain frag.
func findRefs(run *results.Run, frag string) (refIndex, error) {
	var refs refIndex
	for _, c := range run.Cells {
		if strings.Contains(c.Key, frag) && c.Status != results.StatusSkipped {
			refs = append(refs, c)
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("compare: run %s has no reference cell matching %q", run.RunID, frag)
	}
	return refs, nil
}

func (ri refIndex) isRef(key string) bool {
	return slices.ContainsFunc(ri, func(c *results.Cell) bool { return c.Key == key })
}

// nearest returns the reference cell that agrees with c on the most
// telling dimensions: load model, then concurrency, connections, payload,
// codec and compression. Ties go to the first.
func (ri refIndex) nearest(c *results.Cell) *results.Cell {
	best, bestScore := ri[0], -1
	for _, r := range ri {
		a, b := r.Params, c.Params
		score := 0
		for _, same := range []bool{a.Load == b.Load, a.Concurrency == b.Concurrency, a.Connections == b.Connections,
			a.Payload == b.Payload, a.Codec == b.Codec, a.Compression == b.Compression} {
			score <<= 1
			if same {
				score |= 1
			}
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best
}

// Geomean is a metric's geometric-mean summary over the cells compared.
type Geomean struct {
	Metric   *Metric
	Ratio    bool
	Old, New float64
	Delta    float64
	Cells    int
}

// Geomeans summarises each metric's rows; cells with a zero median are
// left out (a geometric mean cannot hold them).
func (c *Comparison) Geomeans() []Geomean {
	var out []Geomean
	for _, m := range Metrics {
		for _, ratio := range []bool{false, true} {
			var olds, news []float64
			for _, r := range c.Rows {
				if r.Metric == m && r.Ratio == ratio && r.OldMedian > 0 && r.NewMedian > 0 {
					olds, news = append(olds, r.OldMedian), append(news, r.NewMedian)
				}
			}
			if len(olds) == 0 {
				continue
			}
			g := Geomean{Metric: m, Ratio: ratio, Old: geomean(olds), New: geomean(news), Cells: len(olds)}
			g.Delta = g.New/g.Old - 1
			out = append(out, g)
		}
	}
	return out
}
