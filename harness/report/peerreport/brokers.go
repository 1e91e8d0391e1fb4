package peerreport

import (
	"fmt"
	"io"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/transports"
)

// BrokerRow is a brokered cell (nats, amqp) beside the direct TCP cell
// of the same codec, payload, concurrency, connections, load and network:
// what decoupling callers from services through a broker costs.
type BrokerRow struct {
	Cell *results.Cell
	TCP  Ref
}

// BrokerRows pairs every closed-loop brokered cell that ran with its tcp
// cell, preferring one of the same group.
func BrokerRows(run *results.Run) []BrokerRow {
	var rows []BrokerRow
	for _, c := range run.Cells {
		p := c.Params
		if !c.Ran() || !transports.Brokered(p.Transport.Name) || p.Load.Kind == "sweep" {
			continue
		}
		direct := findWhere(run, c, func(q spec.Cell) bool {
			return q.Transport == spec.Transport{Name: "tcp"} && q.Codec == p.Codec && q.Compression == p.Compression
		})
		if direct.Cell != nil {
			rows = append(rows, BrokerRow{Cell: c, TCP: direct})
		}
	}
	return rows
}

func cpuPerCall(c *results.Cell) float64 {
	pc := c.Merged.PerCall
	return pc.ClientCPUNs + pc.ServerCPUNs
}

// brokerMarkdown writes the brokered cells' table.
func brokerMarkdown(w io.Writer, run *results.Run) {
	rows := BrokerRows(run)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "### Brokered RPC beside direct TCP\n\n"+
		"Each brokered cell beside the tcp cell of the same codec, payload, concurrency and load (nats: NATS request-reply through a NATS server embedded in the server process; "+
		"amqp: the RabbitMQ RPC pattern through a RabbitMQ node of the run's own, whose CPU time is counted in the server's). "+
		"Ratios per repetition, median (min–max); throughput ratios < 1 and latency ratios > 1 are the broker's price. "+
		"CPU per call is client and server together, the broker's included.\n\n")
	fmt.Fprintf(w, "| brokered cell | calls/s | p50 | p99 | tcp calls/s | × tcp calls/s per rep | p50 / tcp p50 per rep | p99 / tcp p99 per rep | CPU per call | × tcp CPU per call (medians) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		m, t := r.Cell.Merged, r.TCP.Cell
		fmt.Fprintf(w, "| %s | %s | %v | %v | %s%s | %s | %s | %s | %v | %s |\n", r.Cell.Key, results.FormatRate(m.Throughput.Median),
			dur(m.Latency.P50), dur(m.Latency.P99), results.FormatRate(t.Merged.Throughput.Median), far(r.TCP),
			RepRatios(r.Cell, t, throughput), RepRatios(r.Cell, t, p50), RepRatios(r.Cell, t, p99),
			dur(int64(cpuPerCall(r.Cell))), ratio(cpuPerCall(r.Cell), cpuPerCall(t)))
	}
	fmt.Fprintln(w)
}

// brokerSummary writes one terminal line per brokered row.
func brokerSummary(w io.Writer, run *results.Run) {
	for _, r := range BrokerRows(run) {
		fmt.Fprintf(w, "  %-60s %9s/s  %s× tcp%s (p50 %s×, CPU/call %s×)\n", r.Cell.Key, results.FormatRate(r.Cell.Merged.Throughput.Median),
			RepRatios(r.Cell, r.TCP.Cell, throughput), far(r.TCP), RepRatios(r.Cell, r.TCP.Cell, p50), ratio(cpuPerCall(r.Cell), cpuPerCall(r.TCP.Cell)))
	}
}
