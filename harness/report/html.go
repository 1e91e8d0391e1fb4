package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/verdict"
)

// HTML writes report.html: one self-contained page (inline CSS and SVG,
// no script library, no network) with the problems, a table and charts
// per group — percentile curves on HdrHistogram's 1/(1−p) axis,
// throughput against concurrency, cost bars — the rate sweeps' latency
// against throughput, and the manifest. A small inline script counts the
// charts that rendered into <body data-charts-rendered>, for the
// headless-browser check.
func HTML(w io.Writer, run *results.Run) error {
	p := page{Run: run, Title: "rpcbench: " + run.Manifest.SpecName, Problems: problems(run), Manifest: manifestRows(run), Counter: chartCounter}
	var err error
	if p.Verdict, err = verdictSection(verdict.Of(run)); err != nil {
		return err
	}
	ref := reference(run)
	seen := anchors{}
	for _, g := range groups(run, false) {
		p.Groups = append(p.Groups, htmlGroup(g, ref, seen))
	}
	for _, g := range groups(run, true) {
		p.Sweeps = append(p.Sweeps, htmlSweep(run, g))
	}
	p.SweepIntro = sweepIntro(run)
	for _, c := range run.Cells {
		if c.Status == results.StatusSkipped {
			p.Skipped = append(p.Skipped, [2]string{c.Key, c.SkipReason})
		}
	}
	for _, g := range p.Groups {
		p.Charts += len(g.Charts)
		for _, r := range g.Rows {
			if r.Spark != "" {
				p.Charts++
			}
		}
	}
	for _, s := range p.Sweeps {
		for _, pr := range s.Pairs {
			if pr.Chart != "" {
				p.Charts++
			}
		}
	}
	p.Scenarios = htmlResilience(run)
	for _, s := range p.Scenarios {
		p.Charts += len(s.Charts)
	}
	if p.Profiles = profilesHTML(run); p.Profiles != nil && p.Profiles.Chart != "" {
		p.Charts++
	}
	p.Targets = targetsOf(run)
	if g := run.Manifest.GeneratorCeiling; g != nil && g.OK {
		p.Ceiling = g.Explanation
	}
	return pageTmpl.Execute(w, p)
}

// chartCounter is the inline script that counts the charts that drew
// into <body data-charts-rendered>, for RenderCheck.
const chartCounter template.HTML = `<script>
(function(){var n=0;document.querySelectorAll("svg.chart").forEach(function(s){var b=s.getBBox();if(b.width>0&&b.height>0&&s.querySelector(".data"))n++;});document.body.setAttribute("data-charts-rendered",String(n));})();
</script>`

type page struct {
	Run        *results.Run
	Title      string
	Verdict    template.HTML
	Problems   []problem
	Ceiling    string
	Groups     []htmlGroupData
	Sweeps     []htmlSweepData
	SweepIntro string
	// Scenarios is the Resilience section.
	Scenarios []htmlScenario
	Profiles  *htmlProfiles
	Targets   *targetsView
	Skipped   [][2]string
	Manifest  [][2]string
	Charts    int
	Counter   template.HTML
}

type htmlGroupData struct {
	Name, Fixed string
	Head        []string
	Rows        []htmlRow
	Charts      []template.HTML
}

type htmlRow struct {
	// ID is the row's anchor, set on a cell's first row only.
	ID                              string
	Key, Label, Status, StatusClass string
	Cells                           []htmlCell
	// Spark is the small chart of the cell's windows (spark.go).
	Spark template.HTML
}

type htmlCell struct {
	Text string
	Best bool
}

func htmlGroup(g *group, ref *results.Cell, seen anchors) htmlGroupData {
	d := htmlGroupData{Name: g.Name, Fixed: g.fixed(), Head: []string{"cell", "status", "per 100 ms: calls/s; p99, p50"}}
	for i, col := range mainColumns {
		d.Head = append(d.Head, col.head)
		if i == 0 {
			d.Head = append(d.Head, "×ref")
		}
	}
	d.Head = append(d.Head, "errors")
	bestv := best(g.Cells, mainColumns)
	for _, c := range g.Cells {
		r := htmlRow{ID: seen.take(c.Key), Key: c.Key, Label: g.label(c), Status: c.Status, StatusClass: c.Status}
		for i, col := range mainColumns {
			v, ok := col.value(c)
			hc := htmlCell{Text: "–"}
			if ok {
				hc = htmlCell{Text: col.fmt(v), Best: !isNoop(c) && c.Status != results.StatusFailed && sameValue(v, bestv[i])}
			}
			r.Cells = append(r.Cells, hc)
			if i == 0 {
				r.Cells = append(r.Cells, htmlCell{Text: ratio(c, ref)})
			}
		}
		errs := "–"
		if c.Ran() {
			errs = strconv.FormatInt(c.Merged.Errors, 10)
		}
		r.Cells = append(r.Cells, htmlCell{Text: errs})
		r.Spark = sparkline(c)
		d.Rows = append(d.Rows, r)
	}
	ran := slices.DeleteFunc(slices.Clone(g.Cells), func(c *results.Cell) bool { return !c.Ran() })
	if len(ran) == 0 {
		return d
	}
	// Percentile curves, at most perChart cells per chart.
	const perChart = 12
	for i := 0; i < len(ran); i += perChart {
		part := ran[i:min(i+perChart, len(ran))]
		title := "Latency by percentile — " + g.Name
		if len(ran) > perChart {
			title += fmt.Sprintf(" (%d/%d)", i/perChart+1, (len(ran)+perChart-1)/perChart)
		}
		if ch := percentileChart(title, g, part); ch != "" {
			d.Charts = append(d.Charts, ch)
		}
	}
	if slices.Contains(g.Varying, 4) { // concurrency varies
		d.Charts = append(d.Charts, concurrencyChart(g, ran))
	}
	real := slices.DeleteFunc(slices.Clone(ran), isNoop)
	if len(real) > 0 {
		d.Charts = append(d.Charts, costCharts(g, real)...)
	}
	return d
}

// percentileChart draws each cell's merged latency histogram on
// HdrHistogram's percentile axis: x = log10(1/(1−p)).
func percentileChart(title string, g *group, cells []*results.Cell) template.HTML {
	return percentileChartNamed(title, cells, g.label)
}

// percentileChartNamed is percentileChart with the curves named by name.
func percentileChartNamed(title string, cells []*results.Cell, name func(*results.Cell) string) template.HTML {
	var ss []series
	lo, hi, maxX := math.Inf(1), 0.0, 1.0
	for i, c := range cells {
		h, err := record.Decode(c.Merged.Hist)
		if err != nil || h.Count() == 0 {
			continue
		}
		s := series{name: name(c), color: color(i)}
		limit := math.Log10(float64(h.Count())) // no resolution beyond 1/N
		for _, br := range h.HDR().CumulativeDistributionWithTicks(5) {
			q := br.Quantile / 100
			if q >= 1 {
				continue
			}
			x := math.Log10(1 / (1 - q))
			if x > limit {
				break
			}
			v := float64(br.ValueAt)
			s.pts = append(s.pts, [2]float64{x, v})
			lo, hi, maxX = math.Min(lo, v), math.Max(hi, v), math.Max(maxX, x)
		}
		s.pts = append(s.pts, [2]float64{math.Max(limit, 0), float64(h.Summary().Max)})
		hi = math.Max(hi, float64(h.Summary().Max))
		ss = append(ss, s)
	}
	if len(ss) == 0 {
		return ""
	}
	ylo, yhi, yt := latencyTicks(lo, hi)
	xmax := math.Ceil(maxX)
	var xt []tick
	for i := 0.0; i <= xmax; i++ {
		xt = append(xt, tick{i, percentileLabel(i)})
	}
	c := &lineChart{title: title, x: axis{label: "percentile (HdrHistogram scale: 1/(1−p), log)", min: 0, max: xmax, ticks: xt},
		y: axis{label: "latency", min: ylo, max: yhi, log: true, ticks: yt}, series: ss,
		note: "Each curve ends at its maximum. Open-loop cells are corrected for coordinated omission (latency from the intended send time)."}
	return c.svg()
}

func percentileLabel(x float64) string {
	switch x {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", int(x)-2) + "%"
}

// concurrencyChart draws throughput against concurrency, one line per
// combination of the other varying dimensions.
func concurrencyChart(g *group, cells []*results.Cell) template.HTML {
	type key = string
	lines := map[key]*series{}
	var order []key
	maxC, maxT := 1.0, 0.0
	for _, c := range cells {
		v := c.Params.Values()
		var parts []string
		for _, i := range g.Varying {
			if i != 4 {
				parts = append(parts, shortDim[i]+v[i])
			}
		}
		k := strings.Join(parts, " ")
		if lines[k] == nil {
			lines[k] = &series{name: k, marks: true}
			order = append(order, k)
		}
		x, y := float64(c.Params.Concurrency), c.Merged.Throughput.Median
		lines[k].pts = append(lines[k].pts, [2]float64{x, y})
		lines[k].tips = append(lines[k].tips, fmt.Sprintf("c=%d: %s calls/s", c.Params.Concurrency, results.FormatRate(y)))
		maxC, maxT = math.Max(maxC, x), math.Max(maxT, y)
	}
	var ss []series
	for i, k := range order {
		s := lines[k]
		s.color = color(i)
		slices.SortFunc(s.pts, func(a, b [2]float64) int { return int(a[0] - b[0]) })
		ss = append(ss, *s)
	}
	var xt []tick
	for c := 1.0; c <= maxC*1.001; c *= 2 {
		xt = append(xt, tick{c, strconv.Itoa(int(c))})
	}
	top, yt := linearTicks(maxT, 6, results.FormatRate)
	ch := &lineChart{title: "Throughput against concurrency — " + g.Name, x: axis{label: "concurrency (workers, log scale)", min: 1, max: math.Max(2, maxC), log: true, ticks: xt},
		y: axis{label: "calls/s (median of repetitions)", min: 0, max: top, ticks: yt}, series: ss}
	return ch.svg()
}

// costCharts draws CPU, allocations and wire bytes per call as bars.
func costCharts(g *group, cells []*results.Cell) []template.HTML {
	mk := func(title, unit string, parts []string, get func(*results.PerCall) []float64) template.HTML {
		bc := &barChart{title: title, unit: unit, parts: parts}
		bestTotal := math.Inf(1)
		for _, c := range cells {
			vals := get(&c.Merged.PerCall)
			t := 0.0
			for _, v := range vals {
				t += v
			}
			bestTotal = math.Min(bestTotal, t)
			bc.rows = append(bc.rows, barRow{label: g.label(c), values: vals})
		}
		for i := range bc.rows {
			t := 0.0
			for _, v := range bc.rows[i].values {
				t += v
			}
			bc.rows[i].best = t == bestTotal
		}
		return bc.svg()
	}
	cpuParts := []string{"client", "server"}
	if cells[0].Merged.PerCall.Combined {
		cpuParts = []string{"client + server (one process)", "server"}
	}
	return []template.HTML{
		mk("CPU time per call (µs, user+sys) — "+g.Name, "µs", cpuParts, func(p *results.PerCall) []float64 {
			return []float64{p.ClientCPUNs / 1e3, p.ServerCPUNs / 1e3}
		}),
		mk("Heap allocations per call — "+g.Name, "allocs", cpuParts, func(p *results.PerCall) []float64 {
			return []float64{p.ClientAllocs, p.ServerAllocs}
		}),
		mk("Bytes on the wire per call (counted at the client's socket) — "+g.Name, "B", []string{"request", "response"}, func(p *results.PerCall) []float64 {
			return []float64{p.WireOut, p.WireIn}
		}),
	}
}

// htmlSweepData is a sweep group: its summary, and each rpcbench sweep
// beside its limits' in one chart with their steps tables.
type htmlSweepData struct {
	Name, Meaning string
	Summary       sweepTable
	Pairs         []htmlSweepPair
}

type htmlSweepPair struct {
	Title string
	Chart template.HTML
	Steps []sweepTable
}

func htmlSweep(run *results.Run, g *group) htmlSweepData {
	d := htmlSweepData{Name: g.Name, Summary: sweepSummary(g), Meaning: sweepMeaning(g)}
	for _, p := range sweepPairs(g, run.Manifest.PacerCeiling) {
		d.Pairs = append(d.Pairs, htmlSweepPair{Title: p.Title, Chart: sweepChart(run, g, p), Steps: p.Steps})
	}
	return d
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:24px;margin-bottom:4px} h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px} h3{margin-top:24px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4} td.l,th.l{text-align:left} td.best{font-weight:700;background:#e8f6e8}
tr.errors td,tr.failed td,tr.behind td{background:#fff0f0} .status-errors,.status-failed,.status-behind{color:#b00;font-weight:700}
.problems{border:2px solid #c00;background:#fff4f4;padding:8px 16px;margin:16px 0} .problems li{margin:4px 0}
.allgood{border:1px solid #8c8;background:#f4fff4;padding:8px 16px} .scroll{overflow-x:auto}
.manifest td{text-align:left;white-space:normal;vertical-align:top} .manifest td:first-child{white-space:nowrap;font-weight:600}
svg.chart{display:block;margin:12px 0 4px;max-width:100%;height:auto;background:#fff}
svg.spark{margin:0;background:transparent} td.sparkcell{padding:1px 4px}
svg .title{font-size:14px;font-weight:600} svg .tick,svg .legend{font-size:11px;fill:#444} svg .axis{font-size:12px;fill:#222}
svg .label{font-size:11px;fill:#222} svg .label.best{font-weight:700}
svg .frame{fill:none;stroke:#999} svg .grid{stroke:#eee} svg .bound{stroke:#c00;stroke-dasharray:6 4}
.note{color:#666;font-size:12px;margin:0 0 16px} .verdict{border:2px solid #37a;background:#f6f9fd;padding:4px 16px 8px;margin:16px 0}
.verdict h2{margin-top:8px;border:0} .verdict td{white-space:normal} tr.tie td{color:#555;background:#fafafa} .claims li{margin:4px 0}
tr:target td{background:#fff6cc} code{font-size:12px} .charts{display:flex;flex-wrap:wrap;gap:8px}
</style></head>
<body data-charts-expected="{{.Charts}}" data-charts-rendered="0">
<h1>{{.Title}}</h1>
{{with .Run.Manifest.Spec.Description}}<p>{{.}}</p>{{end}}
<p>Run <code>{{.Run.RunID}}</code> · {{.Run.Manifest.CPUModel}}, {{.Run.Manifest.Cores}} CPUs · {{.Run.Manifest.GoVersion}} · server {{.Run.Manifest.ServerMode}}{{if .Run.Manifest.Pinning.Enabled}} · client pinned to CPUs {{.Run.Manifest.Pinning.ClientCPUs}}, server to {{.Run.Manifest.Pinning.ServerCPUs}}{{end}}</p>
{{.Verdict}}
<p class="note">Closed-loop latency runs from the send; open-loop latency from the intended send time (coordinated omission corrected). Throughput and per-call costs are medians over {{.Run.Manifest.Spec.Repetitions}} interleaved repetitions; percentiles come from the merged histograms. CPU is user+sys time of each process divided by calls; allocations from runtime.MemStats; wire bytes counted at the sockets. Bold green is the best in its column; ×ref divides throughput by the reference cell <code>{{.Run.Manifest.Reference}}</code>.</p>
{{if .Problems}}<div class="problems"><h2 style="margin-top:8px;border:0">⚠ Problems — read before trusting any number</h2><ul>
{{range .Problems}}<li><b>{{.Kind}}</b> <code>{{.Key}}</code>: {{.Text}}</li>{{end}}</ul></div>
{{else}}<p class="allgood">No cell had errors or fell behind its schedule. {{.Ceiling}}</p>{{end}}
{{range .Groups}}<section class="group"><h2>{{.Name}}</h2>{{with .Fixed}}<p>All cells: {{.}}.</p>{{end}}
<div class="scroll"><table><tr>{{range $i, $h := .Head}}<th{{if lt $i 2}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr{{with .ID}} id="{{.}}"{{end}} class="{{.StatusClass}}"><td class="l" title="{{.Key}}">{{.Label}}</td><td class="l status-{{.StatusClass}}">{{.Status}}</td><td class="sparkcell">{{.Spark}}</td>{{range .Cells}}<td{{if .Best}} class="best"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table></div>
{{range .Charts}}{{.}}{{end}}</section>
{{end}}
{{if .Sweeps}}<h2>Rate sweeps</h2><p>{{.SweepIntro}}</p>
{{range .Sweeps}}<section class="group"><h3>{{.Name}}</h3>
{{template "sweeptable" .Summary}}{{with .Meaning}}<p>{{.}}</p>{{end}}
{{range .Pairs}}<h4>{{.Title}}</h4>{{.Chart}}{{$n := len .Steps}}
{{range .Steps}}{{if gt $n 1}}<p>{{.Title}}:</p>{{end}}{{template "sweeptable" .}}{{end}}{{end}}</section>{{end}}{{end}}
{{with .Profiles}}<h2>Network profiles</h2><p>Every transport under each profile, side by side. Model: {{.Model}}.</p>
{{.Chart}}
{{with .Overhead.Rows}}<h3>{{$.Profiles.Overhead.Title}}</h3>{{template "table" $.Profiles.Overhead}}{{end}}
{{range .Tables}}<h3>{{.Title}}</h3>{{template "table" .}}{{end}}{{end}}
{{with .Targets}}<h2 id="external-targets">External targets</h2><p>{{.Intro}}</p>
{{template "table" .Overview}}
{{range .Settings}}<details><summary>{{.Title}}: every setting</summary>{{template "table" .}}</details>{{end}}
<h3>{{.Costs.Title}}</h3>{{template "table" .Costs}}{{end}}
{{if .Scenarios}}<h2>Resilience</h2><p>Each scenario runs its server instances as separate processes behind a registry and drives them through the cluster client, once per balancer and retry policy, while its faults are applied. Calls count in the bucket of their start (intended send time in open loop); latency is of successful calls, before and during the fault window. "Error-free again after" is the time from a fault to the first stretch without a failed call.</p>
{{range .Scenarios}}<section class="group"><h3>{{.Name}}</h3><p>{{.Settings}}</p>
<div class="scroll"><table><tr>{{range $i, $h := .Head}}<th{{if lt $i 2}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if lt $i 2}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table></div>
<p>Calls answered per second by each instance, by phase:</p>
<table><tr>{{range $i, $h := .TrafficHead}}<th{{if lt $i 3}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Traffic}}<tr>{{range $i, $c := .}}<td{{if lt $i 3}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table>
{{range .Charts}}{{.}}{{end}}</section>{{end}}{{end}}
{{if .Skipped}}<details><summary>{{len .Skipped}} cells not applicable</summary><ul>{{range .Skipped}}<li><code>{{index . 0}}</code>: {{index . 1}}</li>{{end}}</ul></details>{{end}}
<h2>Manifest</h2><table class="manifest">{{range .Manifest}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>{{end}}</table>
<p class="note">Every figure of every repetition, with encoded histograms, is in results.json next to this file; hgrm/ holds one percentile distribution per cell (µs), written with the run (where it is absent, as in the committed runs, <code>rpcbench report DIR</code> writes it from results.json); bench.txt feeds benchstat (its units are in the README).</p>
{{.Counter}}
</body></html>
{{define "sweeptable"}}<div class="scroll"><table><tr>{{range $i, $h := .Head}}<th{{if eq $i 0}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if eq $i 0}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table></div>{{with .Notes}}<ul class="note">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
{{define "table"}}<div class="scroll"><table><tr>{{range $i, $h := .Head}}<th{{if eq $i 0}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if eq $i 0}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}`))
