package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/internal/plural"
)

// sparkline draws inside one cell's windows: throughput per bucket above,
// p99 (solid) and p50 (dotted) per bucket below, one line per repetition,
// so warm-up, GC pauses and stalls show beside the cell's row. Empty when
// no repetition has a series (runs recorded before series existed).
func sparkline(c *results.Cell) template.HTML {
	var ss []*results.Series
	for _, r := range c.Reps {
		if r.Figures != nil && r.Figures.Series != nil && r.Figures.Series.Len() > 0 {
			ss = append(ss, r.Figures.Series)
		}
	}
	if len(ss) == 0 {
		return ""
	}
	const w, h, top, mid, bot = 150, 48, 2.0, 22.0, 46.0
	maxT, maxL, maxN := 0.0, 0.0, 1
	minT, minP99, maxP99 := math.Inf(1), math.Inf(1), 0.0
	for _, s := range ss {
		maxN = max(maxN, s.Len())
		for i := range s.Len() {
			t := s.Throughput(i)
			maxT, minT = math.Max(maxT, t), math.Min(minT, t)
			p := float64(s.P99[i])
			maxL, minP99, maxP99 = math.Max(maxL, p), math.Min(minP99, p), math.Max(maxP99, p)
		}
	}
	x := func(i int) float64 { return 2 + float64(i)*float64(w-4)/math.Max(1, float64(maxN-1)) }
	y := func(v, max, lo, hi float64) float64 {
		if max <= 0 {
			return hi
		}
		return hi - v/max*(hi-lo)
	}
	path := func(s *results.Series, get func(int) float64, max, lo, hi float64) string {
		var b strings.Builder
		for i := range s.Len() {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%.1f %.1f ", cmd, x(i), y(get(i), max, lo, hi))
		}
		if s.Len() == 1 { // a dot needs two points to draw
			fmt.Fprintf(&b, "L%.1f %.1f", x(1), y(get(0), max, lo, hi))
		}
		return strings.TrimSpace(b.String())
	}
	bucket := float64(ss[0].BucketNs) / 1e6
	tip := fmt.Sprintf("inside the window, per %.0f ms, %s: throughput %s–%s calls/s; p99 %s–%s",
		bucket, plural.Count(len(ss), "repetition"), results.FormatRate(minT), results.FormatRate(maxT), results.FormatNs(minP99), results.FormatNs(maxP99))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title>`, w, h, w, h, esc(tip), esc(tip))
	fmt.Fprintf(&b, `<line x1="0" y1="%.0f" x2="%d" y2="%.0f" class="grid"/>`, mid+1, w, mid+1)
	for _, s := range ss {
		fmt.Fprintf(&b, `<path class="data" d="%s" fill="none" stroke="#1f77b4" stroke-width="1" opacity="0.7"/>`, path(s, s.Throughput, maxT, top, mid-2))
		fmt.Fprintf(&b, `<path class="data" d="%s" fill="none" stroke="#d62728" stroke-width="1" opacity="0.7"/>`, path(s, func(i int) float64 { return float64(s.P99[i]) }, maxL, mid+4, bot))
		fmt.Fprintf(&b, `<path class="data" d="%s" fill="none" stroke="#555" stroke-width="1" stroke-dasharray="2 2" opacity="0.7"/>`, path(s, func(i int) float64 { return float64(s.P50[i]) }, maxL, mid+4, bot))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
