package report

import (
	"fmt"
	"html/template"
	"io"
	"math"

	"rpcbench/harness/compare"
	"rpcbench/harness/record"
	"rpcbench/harness/results"
)

// CompareHTML writes a comparison as one self-contained page: the rows of
// every metric (significant changes marked), and per cell the old and new
// percentile curves on one chart and the throughput of each repetition,
// old beside new. It carries the same chart counters as report.html, so
// RenderCheck verifies it.
func CompareHTML(w io.Writer, cmp *compare.Comparison, oldName, newName string) error {
	p := comparePage{Old: compare.RunLabel(oldName, cmp.Old), New: compare.RunLabel(newName, cmp.New), Alpha: cmp.Alpha, Warnings: cmp.Warnings, Counter: chartCounter}
	byKey := map[string]*compareCell{}
	for _, r := range cmp.Rows {
		cc := byKey[r.Key]
		if cc == nil {
			cc = &compareCell{Key: r.Key, ID: "cmp-" + FileName(r.Key)}
			byKey[r.Key] = cc
			p.Cells = append(p.Cells, cc)
		}
		row := compareRow{Metric: r.Metric.Label, Old: r.Format(r.OldMedian), New: r.Format(r.NewMedian), Delta: r.DeltaString(), P: fmt.Sprintf("p=%.3f n=%d+%d", r.P, r.Old.Len(), r.New.Len())}
		if r.Ratio {
			row.Metric += " ÷ reference"
		}
		if r.Significant {
			row.Class = "better"
			if worse(r) {
				row.Class = "worse"
			}
			cc.Changed++
		}
		cc.Rows = append(cc.Rows, row)
	}
	for _, cc := range p.Cells {
		oc, nc := cmp.Old.Cell(cc.Key), cmp.New.Cell(cc.Key)
		if ch := curvesChart(cc.Key, oc, nc); ch != "" {
			cc.Charts = append(cc.Charts, ch)
		}
		if ch := repsChart(oc, nc); ch != "" {
			cc.Charts = append(cc.Charts, ch)
		}
		p.Charts += len(cc.Charts)
	}
	return comparePageTmpl.Execute(w, p)
}

// worse reports whether a row's change goes the wrong way.
func worse(r *compare.Row) bool {
	if r.Metric.Better == compare.HigherIsBetter {
		return r.NewMedian < r.OldMedian
	}
	return r.NewMedian > r.OldMedian
}

type comparePage struct {
	Old, New string
	Alpha    float64
	Warnings []string
	Cells    []*compareCell
	Charts   int
	Counter  template.HTML
}

type compareCell struct {
	Key, ID string
	Changed int
	Rows    []compareRow
	Charts  []template.HTML
}

type compareRow struct {
	Metric, Old, New, Delta, P, Class string
}

// curvesChart draws the old and new merged histograms of a cell on the
// percentile axis; empty when neither run kept them (a stripped baseline).
func curvesChart(key string, oc, nc *results.Cell) template.HTML {
	var cells []*results.Cell
	for _, c := range []*results.Cell{oc, nc} {
		if c != nil && c.Ran() && c.Merged.Hist != "" {
			if h, err := record.Decode(c.Merged.Hist); err == nil && h.Count() > 0 {
				cells = append(cells, c)
			}
		}
	}
	if len(cells) == 0 {
		return ""
	}
	// percentileChart labels curves by the group's varying dimensions;
	// here the two curves are the runs.
	names := map[*results.Cell]string{oc: "old", nc: "new"}
	return percentileChartNamed("Latency by percentile, old and new — "+key, cells, func(c *results.Cell) string { return names[c] })
}

// repsChart draws each repetition's throughput, old and new.
func repsChart(oc, nc *results.Cell) template.HTML {
	var ss []series
	maxN, maxT := 1.0, 0.0
	for i, c := range []*results.Cell{oc, nc} {
		if c == nil {
			continue
		}
		s := series{name: []string{"old", "new"}[i], color: color(i), marks: true}
		for j, r := range c.Reps {
			if r.Figures == nil || r.Status == results.StatusFailed {
				continue
			}
			s.pts = append(s.pts, [2]float64{float64(j + 1), r.Figures.Throughput})
			s.tips = append(s.tips, fmt.Sprintf("repetition %d: %s calls/s", j+1, results.FormatRate(r.Figures.Throughput)))
			maxN, maxT = math.Max(maxN, float64(j+1)), math.Max(maxT, r.Figures.Throughput)
		}
		if len(s.pts) > 0 {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 || maxT == 0 {
		return ""
	}
	var xt []tick
	for i := 1.0; i <= maxN; i++ {
		xt = append(xt, tick{i, fmt.Sprint(i)})
	}
	top, yt := linearTicks(maxT, 5, results.FormatRate)
	ch := &lineChart{title: "Throughput of each repetition, old and new",
		x: axis{label: "repetition", min: 0.5, max: maxN + 0.5, ticks: xt}, y: axis{label: "calls/s", min: 0, max: top, ticks: yt}, series: ss}
	return ch.svg()
}

var comparePageTmpl = template.Must(template.New("cmp").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>rpcbench compare</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:24px} h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px;font-size:16px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4} td.l,th.l{text-align:left} tr.worse td{background:#fde8e8;font-weight:700} tr.better td{background:#e8f6e8;font-weight:700}
.warn{border:2px solid #c00;background:#fff4f4;padding:8px 16px} .note{color:#666;font-size:12px}
svg.chart{display:block;margin:8px 0;max-width:100%;height:auto;background:#fff} .charts{display:flex;flex-wrap:wrap;gap:8px}
svg .title{font-size:14px;font-weight:600} svg .tick,svg .legend{font-size:11px;fill:#444} svg .axis{font-size:12px;fill:#222}
svg .frame{fill:none;stroke:#999} svg .grid{stroke:#eee} svg .bound{stroke:#c00;stroke-dasharray:6 4}
</style></head>
<body data-charts-expected="{{.Charts}}" data-charts-rendered="0">
<h1>rpcbench compare</h1>
<p>old: <code>{{.Old}}</code><br>new: <code>{{.New}}</code></p>
<p class="note">Δ is the change of the medians over the repetitions; ~ means not significant (Mann-Whitney U, p ≥ {{.Alpha}}). Rows in red changed significantly for the worse, in green for the better.</p>
{{if .Warnings}}<div class="warn">{{range .Warnings}}<p>⚠ {{.}}</p>{{end}}</div>{{end}}
<table><tr><th class="l">cell</th><th>significant changes</th></tr>{{range .Cells}}<tr{{if .Changed}} class="worse"{{end}}><td class="l"><a href="#{{.ID}}">{{.Key}}</a></td><td>{{.Changed}}</td></tr>{{end}}</table>
{{range .Cells}}<section id="{{.ID}}"><h2>{{.Key}}</h2>
<table><tr><th class="l">metric</th><th>old</th><th>new</th><th>Δ</th><th class="l">test</th></tr>
{{range .Rows}}<tr class="{{.Class}}"><td class="l">{{.Metric}}</td><td>{{.Old}}</td><td>{{.New}}</td><td>{{.Delta}}</td><td class="l">{{.P}}</td></tr>{{end}}</table>
<div class="charts">{{range .Charts}}{{.}}{{end}}</div></section>
{{end}}
{{.Counter}}
</body></html>`))
