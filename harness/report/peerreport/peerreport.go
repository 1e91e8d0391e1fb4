// Package peerreport puts each rpcbench transport cell of a run beside its
// raw-socket limit and beside gRPC, measured in the same run: the ratios
// the project's speed targets are stated in, and the settings of every
// peer that produced a number.
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
)

// rawLimit is the raw reference of an rpcbench transport at concurrency
// conc: one caller is a ping-pong, many share a pipelined connection.
func rawLimit(transport string, conc int) string {
	switch transport {
	case "tcp", "unix":
		if conc <= 1 {
			return "raw-tcp-pingpong"
		}
		return "raw-tcp-pipelined"
	case "udp":
		return "raw-udp"
	case "http1":
		return "raw-fasthttp"
	case "quic":
		return "raw-quic"
	}
	return ""
}

// isPeer reports whether a transport name is a peer's rather than an
// rpcbench transport's.
func isPeer(name string) bool {
	return name == "grpc" || strings.HasPrefix(name, "netrpc") || strings.HasPrefix(name, "raw-")
}

// Row is one rpcbench cell with its references.
type Row struct {
	Cell  *results.Cell
	Limit *results.Cell // nil when the run has no matching raw cell
	GRPC  *results.Cell // nil when the run has no matching grpc cell
}

// Rows pairs every rpcbench cell that ran (closed loop, no sweep) with the
// raw limit and the gRPC cell of the same payload, concurrency and load,
// preferring the same connection count.
func Rows(run *results.Run) []Row {
	var rows []Row
	for _, c := range run.Cells {
		p := c.Params
		if !c.Ran() || isPeer(p.Transport.Name) || p.Transport.Name == "noop" || p.Load.Kind == "sweep" {
			continue
		}
		r := Row{Cell: c, Limit: find(run, rawLimit(p.Transport.Name, p.Concurrency), c), GRPC: find(run, "grpc", c)}
		if r.Limit != nil || r.GRPC != nil {
			rows = append(rows, r)
		}
	}
	return rows
}

func find(run *results.Run, peer string, like *results.Cell) *results.Cell {
	if peer == "" {
		return nil
	}
	var best *results.Cell
	for _, c := range run.Cells {
		p, q := c.Params, like.Params
		if !c.Ran() || p.Transport.Name != peer || p.Payload != q.Payload || p.Concurrency != q.Concurrency || p.Load.String() != q.Load.String() ||
			p.ProfileName() != q.ProfileName() { // a limit measured across another network says nothing
			continue
		}
		if p.Connections == q.Connections {
			return c
		}
		if best == nil {
			best = c
		}
	}
	return best
}

// Markdown writes the section "Peers and limits": the ratio table and the
// peers' settings (settings[peer] as recorded in the run's manifest).
func Markdown(w io.Writer, run *results.Run, settings map[string]map[string]string) {
	rows := Rows(run)
	if len(rows) == 0 && len(settings) == 0 {
		return
	}
	fmt.Fprintf(w, "## Peers and limits (same run)\n\n")
	if len(rows) > 0 {
		fmt.Fprintf(w, "Each rpcbench cell beside its raw limit (tcp/unix: raw-tcp-pingpong at one caller, raw-tcp-pipelined above; udp: raw-udp; http1: raw-fasthttp; quic: raw-quic) and beside gRPC, same payload, concurrency and load. Throughput ratios are medians over repetitions; > 1 means rpcbench is faster. Latency ratios are rpcbench's percentile over the reference's; < 1 means rpcbench is faster.\n\n")
		fmt.Fprintf(w, "| rpcbench cell | calls/s | p50 | p99 | raw limit | × limit | p50 / limit p50 | × gRPC | p99 / gRPC p99 |\n|---|---:|---:|---:|---|---:|---:|---:|---:|\n")
		for _, r := range rows {
			m := r.Cell.Merged
			limit, xl, pl, xg, pg := "–", "–", "–", "–", "–"
			if r.Limit != nil {
				limit = fmt.Sprintf("%s (%s/s)", r.Limit.Params.Transport.Name, results.FormatRate(r.Limit.Merged.Throughput.Median))
				xl = ratio(m.Throughput.Median, r.Limit.Merged.Throughput.Median)
				pl = ratio(float64(m.Latency.P50), float64(r.Limit.Merged.Latency.P50))
			}
			if r.GRPC != nil {
				xg = ratio(m.Throughput.Median, r.GRPC.Merged.Throughput.Median)
				pg = ratio(float64(m.Latency.P99), float64(r.GRPC.Merged.Latency.P99))
			}
			fmt.Fprintf(w, "| %s | %s | %v | %v | %s | %s | %s | %s | %s |\n", r.Cell.Key, results.FormatRate(m.Throughput.Median),
				dur(m.Latency.P50), dur(m.Latency.P99), limit, xl, pl, xg, pg)
		}
		fmt.Fprintln(w)
	}
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
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "peers and limits (same run):\n")
	for _, r := range rows {
		m := r.Cell.Merged
		line := fmt.Sprintf("  %-60s %9s/s", r.Cell.Key, results.FormatRate(m.Throughput.Median))
		if r.Limit != nil {
			line += fmt.Sprintf("  %s× %s (p50 %s×)", ratio(m.Throughput.Median, r.Limit.Merged.Throughput.Median), r.Limit.Params.Transport.Name,
				ratio(float64(m.Latency.P50), float64(r.Limit.Merged.Latency.P50)))
		}
		if r.GRPC != nil {
			line += fmt.Sprintf("  %s× grpc (p99 %s×)", ratio(m.Throughput.Median, r.GRPC.Merged.Throughput.Median),
				ratio(float64(m.Latency.P99), float64(r.GRPC.Merged.Latency.P99)))
		}
		fmt.Fprintln(w, line)
	}
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
