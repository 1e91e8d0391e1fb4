package compare

import (
	"fmt"
	"math"
	"strings"

	"rpcbench/harness/results"
)

// Better says which way a metric improves.
type Better int

// Directions.
const (
	LowerIsBetter Better = iota
	HigherIsBetter
)

// Kind says how the gate judges a metric.
type Kind int

// Kinds.
const (
	// Timing figures depend on the machine's speed and load. The gate
	// judges them as ratios to a reference cell of the same repetition,
	// and a regression needs both significance and a minimum effect.
	Timing Kind = iota
	// Deterministic figures (allocations and bytes on the wire per call)
	// do not depend on machine noise. The gate judges their medians
	// against a small absolute and relative tolerance.
	Deterministic
)

func (k Kind) String() string {
	if k == Deterministic {
		return "deterministic"
	}
	return "timing"
}

// Metric is one figure read from every repetition of a cell.
type Metric struct {
	// Name is the metric's name on the command line (p99, server-allocs).
	Name string
	// Label and Unit are for display.
	Label string
	Unit  string
	// Better and Kind say how a change is judged.
	Better Better
	Kind   Kind
	// refName is the reference cell's metric a timing value is divided
	// by; empty means the same metric.
	refName string
	// perWindow (deterministic metrics) is what a measuring window costs
	// once, whatever its calls (runtime bookkeeping, the stats exchange, a
	// grown stack): negligible per call in a full window, not in one that
	// a loaded machine let through only a few hundred calls, so the gate
	// allows perWindow / calls more.
	perWindow float64
	value     func(r *results.Rep) (float64, bool)
	format    func(float64) string
}

// Value returns the metric's value in one repetition, and whether the
// repetition has it.
func (m *Metric) Value(r *results.Rep) (float64, bool) {
	if r == nil || r.Status == results.StatusFailed || r.Figures == nil || r.Figures.OK == 0 {
		return 0, false
	}
	v, ok := m.value(r)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Format renders a value in the metric's unit.
func (m *Metric) Format(v float64) string { return m.format(v) }

// worse returns how much worse b is than a in the metric's direction, as
// a difference (positive: worse).
func (m *Metric) worse(a, b float64) float64 {
	if m.Better == HigherIsBetter {
		return a - b
	}
	return b - a
}

func figures(get func(f *results.Figures) float64) func(*results.Rep) (float64, bool) {
	return func(r *results.Rep) (float64, bool) { return get(r.Figures), true }
}

// serverSide reads a server figure when the server ran as its own process.
func serverSide(get func(p *results.PerCall) float64) func(*results.Rep) (float64, bool) {
	return func(r *results.Rep) (float64, bool) {
		f := r.Figures
		if f.Server == nil || f.PerCall.Combined {
			return 0, false
		}
		return get(&f.PerCall), true
	}
}

// Metrics are every metric compare and gate know, in display order.
var Metrics = []*Metric{
	{Name: "throughput", Label: "throughput", Unit: "calls/s", Better: HigherIsBetter, Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return f.Throughput }), format: fmtCount},
	{Name: "sustained", Label: "sustained rate (p99 bound)", Unit: "calls/s", Better: HigherIsBetter, Kind: Timing, refName: "throughput",
		value: func(r *results.Rep) (float64, bool) {
			if r.Sweep == nil {
				return 0, false
			}
			return r.Sweep.SustainedRate, true
		}, format: fmtCount},
	{Name: "p50", Label: "latency p50", Unit: "time", Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return float64(f.Latency.P50) }), format: fmtNanos},
	{Name: "p90", Label: "latency p90", Unit: "time", Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return float64(f.Latency.P90) }), format: fmtNanos},
	{Name: "p99", Label: "latency p99", Unit: "time", Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return float64(f.Latency.P99) }), format: fmtNanos},
	{Name: "p99.9", Label: "latency p99.9", Unit: "time", Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return float64(f.Latency.P999) }), format: fmtNanos},
	{Name: "client-cpu", Label: "client CPU/call", Unit: "time", Kind: Timing,
		value: figures(func(f *results.Figures) float64 { return f.PerCall.ClientCPUNs }), format: fmtNanos},
	{Name: "server-cpu", Label: "server CPU/call", Unit: "time", Kind: Timing,
		value: serverSide(func(p *results.PerCall) float64 { return p.ServerCPUNs }), format: fmtNanos},
	{Name: "client-allocs", Label: "client allocs/call", Unit: "allocs", Kind: Deterministic,
		value: figures(func(f *results.Figures) float64 { return f.PerCall.ClientAllocs }), format: fmtFixed, perWindow: 200},
	{Name: "server-allocs", Label: "server allocs/call", Unit: "allocs", Kind: Deterministic,
		value: serverSide(func(p *results.PerCall) float64 { return p.ServerAllocs }), format: fmtFixed, perWindow: 200},
	{Name: "client-alloc-bytes", Label: "client alloc B/call", Unit: "B", Kind: Deterministic,
		value: figures(func(f *results.Figures) float64 { return f.PerCall.ClientAllocBytes }), format: fmtBytes, perWindow: 64 << 10},
	{Name: "server-alloc-bytes", Label: "server alloc B/call", Unit: "B", Kind: Deterministic,
		value: serverSide(func(p *results.PerCall) float64 { return p.ServerAllocBytes }), format: fmtBytes, perWindow: 64 << 10},
	{Name: "wire-out", Label: "wire B/call out (requests)", Unit: "B", Kind: Deterministic,
		value: figures(func(f *results.Figures) float64 { return f.PerCall.WireOut }), format: fmtBytes},
	{Name: "wire-in", Label: "wire B/call in (replies)", Unit: "B", Kind: Deterministic,
		value: figures(func(f *results.Figures) float64 { return f.PerCall.WireIn }), format: fmtBytes},
}

// MetricByName finds a metric.
func MetricByName(name string) (*Metric, error) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("unknown metric %q (valid: %s)", name, strings.Join(MetricNames(), ", "))
}

// MetricNames lists the metrics' names.
func MetricNames() []string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.Name
	}
	return names
}

// ParseMetrics reads a comma-separated list of metric names; "all" or an
// empty list is every metric.
func ParseMetrics(list string) ([]*Metric, error) {
	if list == "" || list == "all" {
		return Metrics, nil
	}
	var out []*Metric
	for _, n := range strings.Split(list, ",") {
		m, err := MetricByName(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (m *Metric) refMetric() *Metric {
	if m.refName == "" {
		return m
	}
	r, err := MetricByName(m.refName)
	if err != nil {
		panic(err)
	}
	return r
}

// Formats keep three significant digits.

func fmtCount(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return sig3(v/1e6) + "M"
	case a >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

func fmtNanos(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return sig3(v/1e9) + "s"
	case a >= 1e6:
		return sig3(v/1e6) + "ms"
	case a >= 1e3:
		return sig3(v/1e3) + "µs"
	}
	return sig3(v) + "ns"
}

func fmtBytes(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1<<20:
		return sig3(v/(1<<20)) + "MiB"
	case a >= 10<<10:
		return sig3(v/(1<<10)) + "KiB"
	}
	return fmt.Sprintf("%.1fB", v)
}

func fmtFixed(v float64) string { return fmt.Sprintf("%.3f", v) }

func fmtRatio(v float64) string { return "×" + sig3(v) }

func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
