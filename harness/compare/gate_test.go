package compare

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"rpcbench/cost"
	_ "rpcbench/harness/compare/echoref"
	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// machine is one synthetic repetition's state: how slow the machine was
// (a factor on every timing figure of every cell in that repetition).
var machine = []float64{1.00, 1.07, 0.96, 1.12, 1.03, 0.98, 1.05, 0.94}

// jitter is per-cell noise on top of the machine's, ±3%.
func jitter(cell, rep int) float64 {
	return 1 + 0.03*math.Sin(float64(cell*7+rep*13))
}

// cellFigs describes a synthetic cell at machine speed 1.
type cellFigs struct {
	transport    string
	conc         int
	tput, p50    float64 // calls/s, ns
	serverAllocs float64
	wire         float64
}

func (c cellFigs) key() string { p := c.params(); return p.Key }

func (c cellFigs) params() spec.Cell {
	p := spec.Cell{Transport: spec.Transport{Name: c.transport}, Codec: "proto", Compression: "none", Payload: "Small",
		Concurrency: c.conc, Connections: 1, Load: spec.Load{Kind: "closed"}}
	p.Key = p.KeyOf()
	return p
}

// mkRun builds a run of cells with reps repetitions; slow scales the
// machine (every cell's timing alike).
func mkRun(id string, reps int, slow float64, cells ...cellFigs) *results.Run {
	r := &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, RunID: id,
		Manifest: results.Manifest{SpecName: "gate", Spec: &spec.Spec{Repetitions: reps}, Reference: cellFigs{transport: "tcp-echo", conc: 1}.key()}}
	for ci, c := range cells {
		rc := &results.Cell{Key: c.key(), Params: c.params(), Status: results.StatusOK}
		for i := 0; i < reps; i++ {
			f := slow * machine[i%len(machine)] * jitter(ci, i)
			alloc := c.serverAllocs + 0.01*float64(i%3) // pool misses
			rc.Reps = append(rc.Reps, &results.Rep{Rep: i, Status: results.StatusOK, Figures: &results.Figures{
				Calls: int64(c.tput / f), OK: int64(c.tput / f), Throughput: c.tput / f,
				Latency: record.Summary{Count: 1000, P50: int64(c.p50 * f), P90: int64(1.5 * c.p50 * f), P99: int64(3 * c.p50 * f), P999: int64(9 * c.p50 * f)},
				Server:  &cost.Delta{},
				PerCall: results.PerCall{ClientCPUNs: 0.4 * c.p50 * f, ServerCPUNs: 0.3 * c.p50 * f, ClientAllocs: 2, ServerAllocs: alloc,
					ClientAllocBytes: 34, ServerAllocBytes: 390, WireOut: c.wire, WireIn: c.wire},
			}})
		}
		r.Cells = append(r.Cells, rc)
	}
	return r
}

var (
	core1 = cellFigs{transport: "tcp", conc: 1, tput: 40000, p50: 25000, serverAllocs: 4.05, wire: 79}
	ref1  = cellFigs{transport: "tcp-echo", conc: 1, tput: 45000, p50: 22000, serverAllocs: 2.05, wire: 79}
	core8 = cellFigs{transport: "tcp", conc: 8, tput: 120000, p50: 60000, serverAllocs: 4.0, wire: 79}
	ref8  = cellFigs{transport: "tcp-echo", conc: 8, tput: 150000, p50: 50000, serverAllocs: 2.0, wire: 79}
)

func baseline() *results.Run { return mkRun("base", 6, 1, core1, ref1, core8, ref8) }

func gate(t *testing.T, base, new *results.Run) *GateResult {
	t.Helper()
	g, err := Gate(base, new, GateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// regressed lists "cell-transport/conc metric" of the regressions.
func regressed(g *GateResult) []string {
	var out []string
	for _, c := range g.Regressions() {
		p := c.Key[len("transport="):strings.Index(c.Key, "/")]
		out = append(out, fmt.Sprintf("%s/%s %s", p, c.Key[strings.Index(c.Key, "conc="):strings.Index(c.Key, "/conns")], c.Metric.Name))
	}
	return out
}

func dump(g *GateResult) string {
	var b bytes.Buffer
	g.WriteText(&b, "base", "new", true)
	return b.String()
}

func TestGatePassesUnchanged(t *testing.T) {
	g := gate(t, baseline(), mkRun("new", 6, 1, core1, ref1, core8, ref8))
	if g.Failed() {
		t.Fatalf("unchanged run failed the gate:\n%s", dump(g))
	}
	if len(g.Checks) == 0 {
		t.Fatal("no checks")
	}
}

// A machine twice as slow moves every cell and its reference alike: the
// ratios do not move, so the gate passes, and says how far the machine
// drifted.
func TestGateCancelsMachineSlowdown(t *testing.T) {
	g := gate(t, baseline(), mkRun("new", 6, 2, core1, ref1, core8, ref8))
	if g.Failed() {
		t.Fatalf("slower machine failed the gate:\n%s", dump(g))
	}
	if !strings.Contains(strings.Join(g.Notes, "\n"), "machine drift") {
		t.Errorf("no machine-drift note: %q", g.Notes)
	}
	// Judged on absolute figures instead, the same runs would fail.
	cmp, err := Compare(baseline(), mkRun("new", 6, 2, core1, ref1, core8, ref8), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sig := 0
	for _, r := range cmp.Rows {
		if r.Metric.Name == "p50" && r.Significant {
			sig++
		}
	}
	if sig == 0 {
		t.Errorf("absolute comparison did not see the slowdown")
	}
}

// A server delay slows the core's cells, not the echo references.
func TestGateCatchesDelay(t *testing.T) {
	slow1 := core1
	slow1.p50 *= 4
	slow1.tput /= 4
	g := gate(t, baseline(), mkRun("new", 6, 1, slow1, ref1, core8, ref8))
	if !g.Failed() {
		t.Fatalf("delay not caught:\n%s", dump(g))
	}
	got := strings.Join(regressed(g), ", ")
	for _, want := range []string{"tcp/conc=1 throughput", "tcp/conc=1 p50", "tcp/conc=1 p90", "tcp/conc=1 server-cpu"} {
		if !strings.Contains(got, want) {
			t.Errorf("regressions %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "conc=8") || strings.Contains(got, "allocs") {
		t.Errorf("regressions %q name cells or metrics that did not change", got)
	}
	var b bytes.Buffer
	g.WriteText(&b, "base", "new", false)
	out := b.String()
	for _, want := range []string{"FAIL", core1.key(), "latency p50 +300.0%", "99.78% confidence"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	g.WriteMarkdown(&b, "base", "new")
	if md := b.String(); !strings.Contains(md, "❌") || !strings.Contains(md, "| `transport=tcp/conc=1` | latency p50 |") {
		t.Errorf("markdown summary:\n%s", md)
	}
}

// A regression that slows every call alike is caught because the
// reference does not run the server core.
func TestGateCatchesUniformCoreRegression(t *testing.T) {
	c1, c8 := core1, core8
	c1.p50, c1.tput = c1.p50*1.7, c1.tput/1.7
	c8.p50, c8.tput = c8.p50*1.7, c8.tput/1.7
	g := gate(t, baseline(), mkRun("new", 6, 1.5, c1, ref1, c8, ref8))
	got := strings.Join(regressed(g), ", ")
	for _, want := range []string{"tcp/conc=1 p50", "tcp/conc=8 p50", "tcp/conc=1 throughput", "tcp/conc=8 throughput"} {
		if !strings.Contains(got, want) {
			t.Errorf("regressions %q lack %q:\n%s", got, want, dump(g))
		}
	}
}

// An extra allocation per call is caught on the deterministic metric, with
// no change in timing.
func TestGateCatchesExtraAllocation(t *testing.T) {
	c1 := core1
	c1.serverAllocs++
	g := gate(t, baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8))
	if got := strings.Join(regressed(g), ", "); got != "tcp/conc=1 server-allocs" {
		t.Errorf("regressions = %q, want only tcp/conc=1 server-allocs:\n%s", got, dump(g))
	}
}

func TestGateDeterministicTolerance(t *testing.T) {
	for _, tc := range []struct {
		delta float64
		fail  bool
	}{{0.1, false}, {0.3, false}, {0.5, true}, {-1, false}} {
		c1 := core1
		c1.serverAllocs += tc.delta
		g := gate(t, baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8))
		if g.Failed() != tc.fail {
			t.Errorf("server allocs %+.2f: failed = %v, want %v:\n%s", tc.delta, g.Failed(), tc.fail, dump(g))
		}
	}
	c1 := core1
	c1.wire++
	g := gate(t, baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8))
	if got := strings.Join(regressed(g), ", "); got != "tcp/conc=1 wire-out, tcp/conc=1 wire-in" {
		t.Errorf("one more wire byte per call: regressions = %q", got)
	}
}

// A window a loaded machine let through only a few hundred calls carries
// its fixed cost over fewer calls: the same +0.5 allocations per call that
// fail a full window pass one of 400 calls (200/400 more allowed).
func TestGateDeterministicFewCalls(t *testing.T) {
	c1 := core1
	c1.serverAllocs += 0.5
	for _, tc := range []struct {
		slow float64
		fail bool
	}{{1, true}, {core1.tput / 400, false}} {
		g := gate(t, baseline(), mkRun("new", 6, tc.slow, c1, ref1, core8, ref8))
		if g.Failed() != tc.fail {
			t.Errorf("+0.5 allocs/call at %.0f calls per window: failed = %v, want %v:\n%s", core1.tput/tc.slow, g.Failed(), tc.fail, dump(g))
		}
	}
}

// Significant but small: below the minimum effect, not a regression.
func TestGateMinimumEffect(t *testing.T) {
	c1 := core1
	c1.p50 *= 1.08
	g := gate(t, baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8))
	if g.Failed() {
		t.Fatalf("+8%% p50 failed the gate (limit 15%%):\n%s", dump(g))
	}
	var p50 *Check
	for _, c := range g.Checks {
		if c.Key == core1.key() && c.Metric.Name == "p50" {
			p50 = c
		}
	}
	if p50 == nil || !p50.Significant {
		t.Fatalf("+8%% p50 should be significant yet pass: %+v", p50)
	}
	// With a 5% minimum effect it fails.
	limits, err := ParseLimits("p50=5%")
	if err != nil {
		t.Fatal(err)
	}
	g, _ = Gate(baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8), GateOptions{Limits: limits})
	if got := strings.Join(regressed(g), ", "); got != "tcp/conc=1 p50" {
		t.Errorf("p50=5%%: regressions = %q", got)
	}
}

// Large but not significant: the noise is as large as the change.
func TestGateNeedsSignificance(t *testing.T) {
	base := baseline()
	new := mkRun("new", 6, 1, core1, ref1, core8, ref8)
	// Half of the new reps much slower, half much faster: the median
	// moves but the samples overlap.
	c := new.Cell(core1.key())
	for i, r := range c.Reps {
		k := 0.5
		if i%2 == 0 {
			k = 2.2
		}
		r.Figures.Latency.P50 = int64(float64(r.Figures.Latency.P50) * k)
	}
	g := gate(t, base, new)
	for _, ck := range g.Checks {
		if ck.Key == core1.key() && ck.Metric.Name == "p50" {
			if ck.Significant || ck.Verdict == Regressed {
				t.Errorf("overlapping samples: p = %v, verdict %v", ck.P, ck.Verdict)
			}
		}
	}
}

func TestGateImprovementIsNotRegression(t *testing.T) {
	c1 := core1
	c1.tput *= 1.5
	c1.p50 /= 1.5
	g := gate(t, baseline(), mkRun("new", 6, 1, c1, ref1, core8, ref8))
	if g.Failed() {
		t.Fatalf("improvement failed the gate:\n%s", dump(g))
	}
	improved := 0
	for _, c := range g.Checks {
		if c.Verdict == Improved {
			improved++
		}
	}
	if improved == 0 {
		t.Errorf("no improvement reported")
	}
}

func TestGateCellProblems(t *testing.T) {
	extra := cellFigs{transport: "tcp", conc: 64, tput: 1, p50: 1, wire: 79}
	t.Run("missing", func(t *testing.T) {
		g := gate(t, baseline(), mkRun("new", 6, 1, core1, ref1, ref8, extra))
		if !g.Failed() || !strings.Contains(strings.Join(g.Problems, "\n"), core8.key()+": in the baseline but not in the new run") {
			t.Errorf("missing cell: problems %q", g.Problems)
		}
		if !strings.Contains(strings.Join(g.Notes, "\n"), extra.key()+": new cell") {
			t.Errorf("new cell not noted: %q", g.Notes)
		}
	})
	t.Run("failed", func(t *testing.T) {
		new := mkRun("new", 6, 1, core1, ref1, core8, ref8)
		c := new.Cell(core8.key())
		c.Status = results.StatusFailed
		for _, r := range c.Reps {
			r.Status, r.Error, r.Figures = results.StatusFailed, "server exited", nil
		}
		g := gate(t, baseline(), new)
		if !g.Failed() || !strings.Contains(strings.Join(g.Problems, "\n"), "server exited") {
			t.Errorf("failed cell: problems %q", g.Problems)
		}
	})
	t.Run("errors", func(t *testing.T) {
		new := mkRun("new", 6, 1, core1, ref1, core8, ref8)
		f := new.Cell(core1.key()).Reps[2].Figures
		f.Errors, f.ErrorsByCode = 3, map[string]int64{"deadline_exceeded": 3}
		g := gate(t, baseline(), new)
		if !g.Failed() || !strings.Contains(strings.Join(g.Problems, "\n"), "3 calls failed (deadline_exceeded 3)") {
			t.Errorf("failed calls: problems %q", g.Problems)
		}
	})
	t.Run("few reps", func(t *testing.T) {
		g := gate(t, mkRun("base", 3, 1, core1, ref1), mkRun("new", 3, 1, core1, ref1))
		if !g.Failed() || !strings.Contains(strings.Join(g.Problems, "\n"), "cannot reach p < 0.05") {
			t.Errorf("3 vs 3 reps: problems %q", g.Problems)
		}
	})
	t.Run("no reference", func(t *testing.T) {
		g := gate(t, baseline(), mkRun("new", 6, 1, core1, core8))
		if !g.Failed() {
			t.Errorf("no reference in the new run: passed")
		}
	})
}

// Each cell is divided by the reference that shares its concurrency.
func TestGateNearestReference(t *testing.T) {
	g := gate(t, baseline(), mkRun("new", 6, 1, core1, ref1, core8, ref8))
	if got := g.Refs[core1.key()]; got != ref1.key() {
		t.Errorf("reference of conc=1: %s", got)
	}
	if got := g.Refs[core8.key()]; got != ref8.key() {
		t.Errorf("reference of conc=8: %s", got)
	}
}

// A reference repetition pairs with the same repetition of its cell: a
// machine hiccup in one repetition cancels.
func TestRatioPairsRepetitions(t *testing.T) {
	run := mkRun("r", 6, 1, core1, ref1)
	for _, c := range run.Cells {
		c.Reps[3].Figures.Latency.P50 *= 10 // both cells, same rep
	}
	m, _ := MetricByName("p50")
	s := ratioSample(run.Cell(core1.key()), run.Cell(ref1.key()), m)
	for i, v := range s.Values {
		if v < 1 || v > 1.3 {
			t.Errorf("rep %d: ratio %v", s.Reps[i], v)
		}
	}
	// A rep missing from the reference is left out.
	run.Cell(ref1.key()).Reps[2].Status = results.StatusFailed
	if s := ratioSample(run.Cell(core1.key()), run.Cell(ref1.key()), m); s.Len() != 5 {
		t.Errorf("ratio sample has %d values, want 5", s.Len())
	}
}

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits("p99=25%, server-allocs=0.05+1%,wire-in=off,client-alloc-bytes=2%")
	if err != nil {
		t.Fatal(err)
	}
	if l["p99"].MinEffect != 0.25 || l["server-allocs"] != (Limit{Abs: 0.05, Rel: 0.01}) || !l["wire-in"].Off || l["client-alloc-bytes"] != (Limit{Rel: 0.02}) {
		t.Errorf("parsed %+v", l)
	}
	if l["p50"] != DefaultLimits["p50"] {
		t.Errorf("p50 should keep its default")
	}
	for _, bad := range []string{"p99", "nope=5%", "p99=0.2", "server-allocs=x", "p50=-5%"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("ParseLimits(%q) succeeded", bad)
		}
	}
	for name, lim := range DefaultLimits {
		m, err := MetricByName(name)
		if err != nil {
			t.Errorf("default limit for unknown metric %q", name)
			continue
		}
		if back, err := parseLimit(m, lim.String()); err != nil || back != lim {
			t.Errorf("%s: %v does not round-trip (%v, %v)", name, lim, back, err)
		}
	}
	for _, m := range Metrics {
		if _, ok := DefaultLimits[m.Name]; !ok {
			t.Errorf("metric %s has no default limit", m.Name)
		}
	}
}

func TestCompareListsUnmatchedCellsAndGeomean(t *testing.T) {
	old := mkRun("old", 6, 1, core1, ref1, core8)
	new := mkRun("new", 6, 1.2, core1, ref1, ref8)
	cmp, err := Compare(old, new, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.OnlyOld) != 1 || cmp.OnlyOld[0] != core8.key() || len(cmp.OnlyNew) != 1 || cmp.OnlyNew[0] != ref8.key() {
		t.Errorf("only old %q, only new %q", cmp.OnlyOld, cmp.OnlyNew)
	}
	var geo *Geomean
	for _, g := range cmp.Geomeans() {
		if g.Metric.Name == "p50" {
			geo = &g
		}
	}
	if geo == nil || math.Abs(geo.Delta-0.2) > 0.02 {
		t.Errorf("p50 geomean %+v, want +20%%", geo)
	}
	var b bytes.Buffer
	cmp.WriteText(&b, "old", "new")
	text := b.String()
	for _, want := range []string{"only in the old run (1)", core8.key(), "geomean", "latency p50", "p=0.002 n=6+6", "+20.0%"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	b.Reset()
	cmp.WriteMarkdown(&b, "old", "new")
	if md := b.String(); !strings.Contains(md, "| **geomean** |") || !strings.Contains(md, "### latency p50") {
		t.Errorf("markdown:\n%s", md)
	}
	// Ratios to the reference cancel the slower machine.
	cmp, err = Compare(old, new, Options{Reference: "transport=tcp-echo/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cmp.Rows {
		if r.Ratio && r.Metric.Name == "p50" && r.Significant {
			t.Errorf("%s p50 ratio changed significantly: %v", r.Key, r.Delta)
		}
	}
}

func TestPoolRenumbersRepetitions(t *testing.T) {
	a, b := mkRun("a", 3, 1, core1, ref1), mkRun("b", 4, 1.5, core1, ref1)
	p, err := Pool([]*results.Run{a, b})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cell(core1.key())
	if len(c.Reps) != 7 {
		t.Fatalf("%d reps, want 7", len(c.Reps))
	}
	for i, r := range c.Reps {
		if r.Rep != i {
			t.Errorf("rep %d numbered %d", i, r.Rep)
		}
	}
	m, _ := MetricByName("p50")
	if s := ratioSample(c, p.Cell(ref1.key()), m); s.Len() != 7 {
		t.Errorf("pooled ratio sample has %d values", s.Len())
	}
	if c.Merged == nil || c.Merged.Reps != 7 {
		t.Errorf("merged %+v", c.Merged)
	}
	if !strings.Contains(strings.Join(p.Manifest.Notes, " "), "pooled from 2 runs: a, b") {
		t.Errorf("notes %q", p.Manifest.Notes)
	}
	other := mkRun("c", 3, 1, core1)
	other.Manifest.SpecName = "default"
	if _, err := Pool([]*results.Run{a, other}); err == nil {
		t.Errorf("pooled runs of different specs")
	}
}

func TestKeyNamer(t *testing.T) {
	kn := newKeyNamer([]string{core1.key(), ref8.key()})
	if got := kn.short(core1.key()); got != "transport=tcp/conc=1" {
		t.Errorf("short = %q", got)
	}
	if got := strings.Join(kn.common, " "); got != "codec=proto compression=none payload=Small conns=1 load=closed" {
		t.Errorf("common = %q", got)
	}
}

// A burst of load in some repetitions of one cell is not reproduced by a
// re-run: the regression becomes unconfirmed and the gate passes. A real
// one is reproduced and stands.
func TestGateConfirm(t *testing.T) {
	stalled := func() *results.Run {
		r := mkRun("new", 6, 1, core1, ref1, core8, ref8)
		for _, rep := range r.Cell(core1.key()).Reps[:4] {
			rep.Figures.Latency.P90 *= 8
		}
		return r
	}
	g := gate(t, baseline(), stalled())
	if got := strings.Join(regressed(g), ", "); got != "tcp/conc=1 p90" {
		t.Fatalf("stalled reps: regressions %q, want the p90 of tcp/conc=1", got)
	}
	if got := strings.Join(g.ToConfirm(), " "); got != core1.key()+" "+ref1.key() {
		t.Errorf("ToConfirm = %q", got)
	}
	g.Confirm(mkRun("confirm", 6, 1.3, core1, ref1))
	if g.Failed() {
		t.Errorf("a re-run without the burst did not clear the regression:\n%s", dump(g))
	}
	if !strings.Contains(dump(g), "noise, not failing: "+core1.key()+" latency p90") {
		t.Errorf("unconfirmed regression not reported:\n%s", dump(g))
	}

	slow := core1
	slow.p50 *= 2
	g = gate(t, baseline(), mkRun("new", 6, 1, slow, ref1, core8, ref8))
	g.Confirm(mkRun("confirm", 6, 0.8, slow, ref1))
	if got := strings.Join(regressed(g), ", "); !strings.Contains(got, "tcp/conc=1 p50") {
		t.Errorf("a reproduced regression did not stand: %q", got)
	}
	if !strings.Contains(dump(g), "confirmed by a re-run: ×2.") {
		t.Errorf("confirmation not reported:\n%s", dump(g))
	}
	// A re-run that lacks the cell leaves the regression standing.
	g = gate(t, baseline(), mkRun("new", 6, 1, slow, ref1, core8, ref8))
	g.Confirm(mkRun("confirm", 6, 1, ref1))
	if !g.Failed() {
		t.Errorf("a re-run without the cell cleared the regression")
	}
}

func TestConfirmSpec(t *testing.T) {
	run := baseline()
	run.Manifest.Spec = &spec.Spec{Name: "gate", Repetitions: 6, Duration: spec.Duration(time.Second), Server: "process", Pin: "auto"}
	sp, err := ConfirmSpec(run, []string{core8.key(), ref8.key()})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Cells) != 2 || plan.Cells[0].Key != core8.key() || plan.Cells[1].Key != ref8.key() {
		t.Errorf("confirmation cells %+v", plan.Cells)
	}
	if sp.Repetitions != 6 || sp.Duration.D() != time.Second || *sp.GeneratorCeiling {
		t.Errorf("confirmation settings %+v", sp)
	}
	if _, err := ConfirmSpec(run, []string{"transport=nope"}); err == nil {
		t.Errorf("unknown cell accepted")
	}
}

func TestGateReferenceDidNotRun(t *testing.T) {
	new := mkRun("new", 6, 1, core1, ref1, core8, ref8)
	c := new.Cell(ref1.key())
	for _, r := range c.Reps {
		r.Status, r.Error, r.Figures = results.StatusFailed, "dial: refused", nil
	}
	g := gate(t, baseline(), new)
	if !strings.Contains(strings.Join(g.Problems, "\n"), core1.key()+": its reference "+ref1.key()+" did not run in the new run") {
		t.Errorf("problems %q", g.Problems)
	}
}
