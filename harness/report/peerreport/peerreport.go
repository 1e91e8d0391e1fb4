// Package peerreport puts each rpcbench transport cell of a run beside its
// raw-socket limit (the raw peer of the same design, LimitFor), the naive
// raw peer where there is one, and gRPC, and each brokered cell beside
// direct TCP, measured in the same run: the
// ratios the project's speed targets are stated in, taken repetition by
// repetition so that their spread shows, and the settings of every peer
// that produced a number.
package peerreport

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/transports"
)

// Choice is the raw references an rpcbench transport's cells are divided
// by: Limit, the same design with no RPC layer (the floor its speed
// targets are stated against), and Naive, when there is one, what a client
// that does not share its connection gets.
type Choice struct {
	Limit, Why         string
	Naive, NaiveDesign string // peer name; what its design is
}

// LimitFor says which raw references a cell of transport t at concurrency
// conc is measured against; a zero Choice for a transport without one.
func LimitFor(t spec.Transport, conc int) Choice {
	switch t.Name {
	case "tcp", "unix":
		if conc <= 1 {
			return Choice{Limit: "raw-tcp-pingpong", Why: "one caller has one call in flight: a connection that only writes the request and reads the reply is the floor"}
		}
		return Choice{Limit: "raw-tcp-pipelined", Why: "the same design: one shared connection, one coalescing writer, one reader routing replies by id",
			Naive: "raw-tcp-pingpong", NaiveDesign: "a connection per caller, one call in flight on each"}
	case "udp":
		return Choice{Limit: "raw-udp-batched", Why: "the same design: one socket per connection shared by the callers, sendmmsg/recvmmsg batches, one reader routing replies by id",
			Naive: "raw-udp", NaiveDesign: "a socket per caller, one datagram in flight on each"}
	case "http1":
		return Choice{Limit: "raw-fasthttp", Why: "the same HTTP/1.1 library (fasthttp keep-alive client and server) with no RPC layer"}
	case "quic":
		if t.Mode == "mux" {
			return Choice{Limit: "raw-quic-mux", Why: "the same design: one stream per connection, length-prefixed frames, one coalescing writer, one reader routing replies by id",
				Naive: "raw-quic", NaiveDesign: "a stream per call"}
		}
		return Choice{Limit: "raw-quic", Why: "the same design: one stream per call"}
	}
	return Choice{}
}

// isPeer reports whether a transport name is a peer's rather than an
// rpcbench transport's.
func isPeer(name string) bool {
	return name == "grpc" || strings.HasPrefix(name, "netrpc") || strings.HasPrefix(name, "raw-")
}

// Ref is a reference cell beside an rpcbench cell. Near says it ran in a
// group of the rpcbench cell, so in each repetition it ran close in time;
// otherwise it comes from another group of the run.
type Ref struct {
	Cell *results.Cell
	Near bool
}

// Row is one rpcbench cell with its references; a nil Ref.Cell is a
// reference the run has no matching cell of.
type Row struct {
	Cell   *results.Cell
	Choice Choice
	Limit  Ref
	Naive  Ref
	GRPC   Ref
}

// Rows pairs every rpcbench cell that ran (closed loop, no sweep) with the
// raw limit, the naive reference and the gRPC cell of the same payload,
// concurrency, load and network profile, preferring a cell of the same
// group, then the same connection count.
func Rows(run *results.Run) []Row {
	var rows []Row
	for _, c := range run.Cells {
		p := c.Params
		if !c.Ran() || isPeer(p.Transport.Name) || p.Transport.Name == "noop" || p.Load.Kind == "sweep" || transports.Brokered(p.Transport.Name) {
			continue // brokered cells: BrokerRows
		}
		ch := LimitFor(p.Transport, p.Concurrency)
		r := Row{Cell: c, Choice: ch, Limit: find(run, ch.Limit, c), Naive: find(run, ch.Naive, c), GRPC: find(run, "grpc", c)}
		if r.Limit.Cell != nil || r.GRPC.Cell != nil {
			rows = append(rows, r)
		}
	}
	return rows
}

func find(run *results.Run, peer string, like *results.Cell) Ref {
	if peer == "" {
		return Ref{}
	}
	return findWhere(run, like, func(p spec.Cell) bool { return p.Transport.Name == peer })
}

// findWhere finds the cell that is, beside what match asks, most like
// like: same payload, concurrency, load and profile, then the same group,
// then the same connection count.
func findWhere(run *results.Run, like *results.Cell, match func(spec.Cell) bool) Ref {
	var best Ref
	bestScore := -1
	for _, c := range run.Cells {
		p, q := c.Params, like.Params
		if !c.Ran() || !match(p) || p.Payload != q.Payload || p.Concurrency != q.Concurrency || p.Load.String() != q.Load.String() ||
			p.ProfileName() != q.ProfileName() { // a limit measured across another network says nothing
			continue
		}
		near := shareGroup(c, like)
		score := 0
		if near {
			score += 2
		}
		if p.Connections == q.Connections {
			score++
		}
		if score > bestScore {
			best, bestScore = Ref{Cell: c, Near: near}, score
		}
	}
	return best
}

// groupsOf lists the groups a cell belongs to.
func groupsOf(c *results.Cell) []string { return append([]string{c.Group}, c.Params.AlsoIn...) }

func shareGroup(a, b *results.Cell) bool {
	for _, g := range groupsOf(a) {
		if slices.Contains(groupsOf(b), g) {
			return true
		}
	}
	return false
}

// Spread is a ratio taken repetition by repetition: its median, min and
// max over the N repetitions in which both cells ran.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// RepRatios divides fig of a by fig of b in each repetition both ran.
func RepRatios(a, b *results.Cell, fig func(*results.Figures) float64) Spread {
	byRep := map[int]*results.Figures{}
	for _, r := range b.Reps {
		if r.Figures != nil && r.Status != results.StatusFailed {
			byRep[r.Rep] = r.Figures
		}
	}
	var v []float64
	for _, r := range a.Reps {
		if f, ok := byRep[r.Rep]; ok && r.Figures != nil && r.Status != results.StatusFailed && fig(f) > 0 {
			v = append(v, fig(r.Figures)/fig(f))
		}
	}
	if len(v) == 0 {
		return Spread{}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Spread{Median: m, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

func throughput(f *results.Figures) float64 { return f.Throughput }
func p50(f *results.Figures) float64        { return float64(f.Latency.P50) }
func p99(f *results.Figures) float64        { return float64(f.Latency.P99) }

// String is "median (min–max)", or "–" when no repetition pairs.
func (s Spread) String() string {
	switch s.N {
	case 0:
		return "–"
	case 1:
		return fmt.Sprintf("%.2f (1 rep)", s.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

// Markdown writes the section "Peers and limits": the ratio table and the
// peers' settings (settings[peer] as recorded in the run's manifest).
func Markdown(w io.Writer, run *results.Run, settings map[string]map[string]string) {
	rows := Rows(run)
	if len(rows) == 0 && len(settings) == 0 && len(BrokerRows(run)) == 0 {
		return
	}
	fmt.Fprintf(w, "## Peers and limits (same run)\n\n")
	if len(rows) > 0 {
		fmt.Fprintf(w, "Each rpcbench cell beside its raw limit, the naive reference where there is one, and gRPC: same payload, concurrency, load and network, from the cell's own group where the group has one (else marked †: another group, further apart in time). "+
			"Ratios are taken repetition by repetition (the two cells ran in the same round) and shown as the median with the min–max over the repetitions; \"× limit (medians)\" divides the medians instead. "+
			"Throughput ratios > 1 mean rpcbench is faster; latency ratios are rpcbench's percentile over the reference's, < 1 means rpcbench is faster.\n\n")
		fmt.Fprintf(w, "| rpcbench cell | calls/s | p50 | p99 | raw limit | × limit (medians) | × limit per rep | p50 / limit p50 per rep | × naive per rep | × gRPC per rep | p99 / gRPC p99 per rep |\n|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			m := r.Cell.Merged
			limit, xl, xlr, pl, xn, xg, pg := "–", "–", "–", "–", "–", "–", "–"
			if l := r.Limit.Cell; l != nil {
				limit = fmt.Sprintf("%s (%s/s)%s", l.Params.Transport.Name, results.FormatRate(l.Merged.Throughput.Median), far(r.Limit))
				xl = ratio(m.Throughput.Median, l.Merged.Throughput.Median)
				xlr = RepRatios(r.Cell, l, throughput).String()
				pl = RepRatios(r.Cell, l, p50).String()
			}
			if n := r.Naive.Cell; n != nil {
				xn = fmt.Sprintf("%s %s%s", RepRatios(r.Cell, n, throughput), n.Params.Transport.Name, far(r.Naive))
			}
			if g := r.GRPC.Cell; g != nil {
				xg = RepRatios(r.Cell, g, throughput).String() + far(r.GRPC)
				pg = RepRatios(r.Cell, g, p99).String()
			}
			fmt.Fprintf(w, "| %s | %s | %v | %v | %s | %s | %s | %s | %s | %s | %s |\n", r.Cell.Key, results.FormatRate(m.Throughput.Median),
				dur(m.Latency.P50), dur(m.Latency.P99), limit, xl, xlr, pl, xn, xg, pg)
		}
		fmt.Fprintln(w)
		writeChoices(w, rows)
	}
	brokerMarkdown(w, run)
	if len(settings) > 0 {
		fmt.Fprintf(w, "### Peer settings\n\n| peer | setting | value |\n|---|---|---|\n")
		for _, n := range slices.Sorted(maps.Keys(settings)) {
			keys := make([]string, 0, len(settings[n]))
			for k := range settings[n] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "| %s | %s | %s |\n", n, k, strings.ReplaceAll(settings[n][k], "|", `\|`))
			}
		}
		fmt.Fprintln(w)
	}
}

// Summary writes one terminal line per row.
func Summary(w io.Writer, run *results.Run) {
	rows := Rows(run)
	if len(rows) == 0 && len(BrokerRows(run)) == 0 {
		return
	}
	fmt.Fprintf(w, "peers and limits (same run):\n")
	for _, r := range rows {
		m := r.Cell.Merged
		line := fmt.Sprintf("  %-60s %9s/s", r.Cell.Key, results.FormatRate(m.Throughput.Median))
		if l := r.Limit.Cell; l != nil {
			line += fmt.Sprintf("  %s× %s%s (p50 %s×)", RepRatios(r.Cell, l, throughput), l.Params.Transport.Name, far(r.Limit), RepRatios(r.Cell, l, p50))
		}
		if g := r.GRPC.Cell; g != nil {
			line += fmt.Sprintf("  %s× grpc%s (p99 %s×)", RepRatios(r.Cell, g, throughput), far(r.GRPC), RepRatios(r.Cell, g, p99))
		}
		fmt.Fprintln(w, line)
	}
	brokerSummary(w, run)
}

// writeChoices says, for each kind of rpcbench cell in rows, which limit
// its ratios use and why.
func writeChoices(w io.Writer, rows []Row) {
	fmt.Fprintf(w, "Which limit each ratio uses, and why:\n\n| rpcbench cells | raw limit | why | naive reference |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	for _, r := range rows {
		p := r.Cell.Params
		what := p.Transport.Name
		if p.Transport.Mode == "mux" {
			what += "+mux"
		}
		if what == "tcp" || what == "unix" {
			what += map[bool]string{true: ", one caller", false: ", several callers"}[p.Concurrency <= 1]
		}
		if seen[what] || r.Choice.Limit == "" {
			continue
		}
		seen[what] = true
		naive := "–"
		if r.Choice.Naive != "" {
			naive = fmt.Sprintf("%s (%s): what a naive client gets", r.Choice.Naive, r.Choice.NaiveDesign)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", what, r.Choice.Limit, r.Choice.Why, naive)
	}
	fmt.Fprintln(w)
}

// far marks a reference from another group than its rpcbench cell's.
func far(r Ref) string {
	if r.Cell == nil || r.Near {
		return ""
	}
	return " †"
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func dur(ns int64) time.Duration {
	d := time.Duration(ns)
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
