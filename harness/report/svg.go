package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"rpcbench/harness/results"
)

// A tiny SVG chart kit: line charts on linear or log axes and horizontal
// stacked bars. Charts are drawn here, in Go, so report.html needs no
// script library and no network; each chart is an <svg class="chart">
// whose data marks carry class "data" (the render check counts them).

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
	"#393b79", "#ad494a", "#637939", "#e6550d", "#7b4173", "#3182bd"}

func color(i int) string { return palette[i%len(palette)] }

type tick struct {
	v     float64
	label string
}

type axis struct {
	label    string
	min, max float64
	log      bool
	ticks    []tick
}

func (a axis) pos(v float64, lo, hi float64) float64 {
	f := func(x float64) float64 {
		if a.log {
			return math.Log10(math.Max(x, 1e-300))
		}
		return x
	}
	span := f(a.max) - f(a.min)
	if span == 0 {
		return (lo + hi) / 2
	}
	return lo + (f(v)-f(a.min))/span*(hi-lo)
}

type series struct {
	name   string
	color  string
	pts    [][2]float64
	dashed bool
	marks  bool // draw a dot at each point
	tips   []string
}

type lineChart struct {
	title, note string
	x, y        axis
	series      []series
	hlines      []tick // horizontal reference lines (value, label)
	vlines      []tick // vertical markers (x, label), e.g. faults
}

const (
	chartW, chartH = 760, 380
	padL, padR     = 70, 44
	padT, padB     = 34, 48
)

func (c *lineChart) svg() template.HTML {
	var b strings.Builder
	legendRows := (len(c.series) + 2) / 3
	h := chartH + legendRows*18
	fmt.Fprintf(&b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, h, chartW, h, esc(c.title))
	fmt.Fprintf(&b, `<text x="%d" y="20" class="title">%s</text>`, padL, esc(c.title))
	x0, x1 := float64(padL), float64(chartW-padR)
	y0, y1 := float64(chartH-padB), float64(padT)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" class="frame"/>`, x0, y1, x1-x0, y0-y1)
	for _, t := range c.x.ticks {
		px := c.x.pos(t.v, x0, x1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, px, y1, px, y0, px, y0+16, esc(t.label))
	}
	for _, t := range c.y.ticks {
		py := c.y.pos(t.v, y0, y1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, x0, py, x1, py, x0-6, py+4, esc(t.label))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`, (x0+x1)/2, chartH-12, esc(c.x.label))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" class="axis" text-anchor="middle">%s</text>`, (y0+y1)/2, esc(c.y.label))
	for _, hl := range c.hlines {
		py := c.y.pos(hl.v, y0, y1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="bound"/><text x="%.1f" y="%.1f" class="tick">%s</text>`, x0, py, x1, py, x1-4-float64(7*len(hl.label)), py-4, esc(hl.label))
	}
	for i, vl := range c.vlines {
		px := clamp(c.x.pos(vl.v, x0, x1), x0, x1)
		// Labels step down so that markers close together stay readable.
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="bound"/><text x="%.1f" y="%.1f" class="tick">%s</text>`, px, y1, px, y0, px+3, y1+12+float64(i%4)*12, esc(vl.label))
	}
	for i, s := range c.series {
		if len(s.pts) == 0 {
			continue
		}
		col := s.color
		if col == "" {
			col = color(i)
		}
		var d strings.Builder
		for j, p := range s.pts {
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, clamp(c.x.pos(p[0], x0, x1), x0, x1), clamp(c.y.pos(p[1], y0, y1), y1, y0))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 4"`
		}
		fmt.Fprintf(&b, `<path class="data" d="%s" fill="none" stroke="%s" stroke-width="1.8"%s><title>%s</title></path>`, strings.TrimSpace(d.String()), col, dash, esc(s.name))
		if s.marks {
			for j, p := range s.pts {
				tip := s.name
				if j < len(s.tips) {
					tip += ": " + s.tips[j]
				}
				fmt.Fprintf(&b, `<circle class="data" cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`, clamp(c.x.pos(p[0], x0, x1), x0, x1), clamp(c.y.pos(p[1], y0, y1), y1, y0), col, esc(tip))
			}
		}
		lx := padL + (i%3)*230
		ly := chartH + 4 + (i/3)*18
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/><text x="%d" y="%d" class="legend">%s</text>`, lx, ly, lx+18, ly, col, dash, lx+24, ly+4, esc(trim(s.name, 34)))
	}
	b.WriteString(`</svg>`)
	if c.note != "" {
		fmt.Fprintf(&b, `<p class="note">%s</p>`, esc(c.note))
	}
	return template.HTML(b.String())
}

// barChart draws one horizontal bar per row, stacked from parts.
type barChart struct {
	title, unit string
	parts       []string // names of the stacked parts
	rows        []barRow
}

type barRow struct {
	label  string
	values []float64
	best   bool
}

func (c *barChart) svg() template.HTML {
	const rowH, labelW, valueW = 20, 230, 90
	total := func(r barRow) float64 {
		s := 0.0
		for _, v := range r.values {
			s += v
		}
		return s
	}
	maxV := 0.0
	for _, r := range c.rows {
		maxV = math.Max(maxV, total(r))
	}
	h := padT + len(c.rows)*rowH + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, h, chartW, h, esc(c.title))
	fmt.Fprintf(&b, `<text x="4" y="20" class="title">%s</text>`, esc(c.title))
	barW := float64(chartW - labelW - valueW - 10)
	for i, r := range c.rows {
		y := padT + i*rowH
		cls := "label"
		if r.best {
			cls = "label best"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="%s" text-anchor="end">%s</text>`, labelW-6, y+14, cls, esc(trim(r.label, 36)))
		x := float64(labelW)
		for j, v := range r.values {
			w := 0.0
			if maxV > 0 {
				w = v / maxV * barW
			}
			name := ""
			if j < len(c.parts) {
				name = c.parts[j]
			}
			fmt.Fprintf(&b, `<rect class="data" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s %s</title></rect>`, x, y+3, math.Max(w, 0.5), rowH-6, color(j), esc(r.label), esc(name), fmtNum(v), esc(c.unit))
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick">%s</text>`, x+4, y+14, esc(fmtNum(total(r))))
	}
	ly := padT + len(c.rows)*rowH + 16
	for j, p := range c.parts {
		lx := labelW + j*150
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" class="legend">%s</text>`, lx, ly-10, color(j), lx+16, ly, esc(p))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func esc(s string) string { return html.EscapeString(s) }

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// latencyTicks returns decade ticks (1µs, 10µs, ...) covering [lo, hi] ns.
func latencyTicks(lo, hi float64) (float64, float64, []tick) {
	lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 1))))
	hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
	var ts []tick
	for v := lo; v <= hi*1.001; v *= 10 {
		ts = append(ts, tick{v, results.FormatNs(v)})
	}
	return lo, hi, ts
}

// linearTicks returns about n round ticks from 0 to hi.
func linearTicks(hi float64, n int, format func(float64) string) (float64, []tick) {
	if hi <= 0 {
		hi = 1
	}
	step := math.Pow(10, math.Floor(math.Log10(hi/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if hi/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	top := math.Ceil(hi/step) * step
	var ts []tick
	for v := 0.0; v <= top*1.0001; v += step {
		ts = append(ts, tick{v, format(v)})
	}
	return top, ts
}
