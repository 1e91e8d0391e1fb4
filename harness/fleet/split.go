package fleet

import "rpcbench/harness/spec"

// split divides a cell's load among workers (sorted names): closed loop,
// the concurrency (64 over 3: 21, 21, 22); open loop, the rate evenly and
// the calls in flight as the concurrency. A worker left with no
// concurrency sits the cell out.
func split(p spec.Cell, workers []string) []share {
	n := min(len(workers), max(p.Concurrency, 1))
	out := make([]share, n)
	for i := range out {
		c := p.Concurrency / n
		if i >= n-p.Concurrency%n {
			c++
		}
		out[i] = share{Worker: workers[i], Concurrency: max(c, 1)}
		if p.Load.Kind == "open" {
			out[i].Rate = p.Load.Rate / float64(n)
		}
	}
	return out
}

// splitRule is the manifest's description of split.
const splitRule = "each cell's load is split among the workers alive when it is published: closed loop, the concurrency (64 over 3: 21+21+22), open loop, the rate evenly and the calls in flight like the concurrency; each worker opens the cell's connections itself"
