package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"rpcbench/harness/results"
)

// BenchFormat writes one line per repetition (and per sweep step) in the
// Go benchmark format, so that `benchstat old/bench.txt new/bench.txt`
// compares two runs:
//
//	BenchmarkRPC/transport=tcp/codec=proto/.../load=closed 183012 5464 ns/op 21000 p50-ns ... 183012 calls/s ...
//
// N is the calls completed; ns/op is wall time per completed call (the
// inverse of throughput), and each further unit is named for benchstat:
// lower is better for everything but calls/s.
func BenchFormat(w io.Writer, run *results.Run) error {
	bw := bufio.NewWriter(w)
	m := run.Manifest
	fmt.Fprintf(bw, "goos: linux\ngoarch: amd64\npkg: rpcbench\ncpu: %s\n", oneLine(m.CPUModel))
	fmt.Fprintf(bw, "rpcbench-run: %s\nrpcbench-spec: %s\nrpcbench-commit: %s\nrpcbench-server: %s\n", run.RunID, oneLine(m.SpecName), m.Commit, m.ServerMode)
	if m.Pinning.Enabled {
		fmt.Fprintf(bw, "rpcbench-pinning: client=%s server=%s\n", m.Pinning.ClientCPUs, m.Pinning.ServerCPUs)
	}
	for _, c := range run.Cells {
		for _, rr := range c.Reps {
			if rr.Figures == nil || rr.Status == results.StatusFailed {
				continue
			}
			benchLine(bw, "BenchmarkRPC/"+c.Key, rr.Figures)
			if rr.Sweep != nil {
				for _, st := range rr.Sweep.Steps {
					benchLine(bw, fmt.Sprintf("BenchmarkRPC/%s/rate=%.0f", c.Key, st.TargetRate), st.Figures)
				}
			}
		}
	}
	return bw.Flush()
}

func benchLine(w io.Writer, name string, f *results.Figures) {
	if f.Calls == 0 {
		return
	}
	nsPerOp := float64(f.ElapsedNs) / float64(f.Calls)
	l := f.Latency
	p := f.PerCall
	fmt.Fprintf(w, "%s %d %.1f ns/op %d p50-ns %d p90-ns %d p99-ns %d p99.9-ns %d max-ns %.0f calls/s",
		name, f.Calls, nsPerOp, l.P50, l.P90, l.P99, l.P999, l.Max, f.Throughput)
	if p.ServerUnknown != "" {
		// An external target's server is not measured: no server metrics
		// rather than zeros.
		fmt.Fprintf(w, " %.0f client-cpu-ns/op %.2f client-allocs/op %.0f client-B/op %.1f wire-out-B/op %.1f wire-in-B/op %d errors",
			p.ClientCPUNs, p.ClientAllocs, p.ClientAllocBytes, p.WireOut, p.WireIn, f.Errors)
	} else {
		fmt.Fprintf(w, " %.0f client-cpu-ns/op %.0f server-cpu-ns/op %.2f client-allocs/op %.0f client-B/op %.2f server-allocs/op %.0f server-B/op %.1f wire-out-B/op %.1f wire-in-B/op %d errors",
			p.ClientCPUNs, p.ServerCPUNs, p.ClientAllocs, p.ClientAllocBytes, p.ServerAllocs, p.ServerAllocBytes, p.WireOut, p.WireIn, f.Errors)
	}
	if f.Uncorrected != nil {
		fmt.Fprintf(w, " %d uncorrected-p99-ns", f.Uncorrected.P99)
	}
	fmt.Fprintln(w)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
