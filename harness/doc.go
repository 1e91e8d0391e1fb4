// Package harness is rpcbench's benchmark harness. This package holds no
// code: it is the map of the sub-packages where the work lives.
//
//	harness/spec              the YAML matrix spec: parsing, validation, cells and their keys
//	harness/protopayload      a user's protobuf message as a cell payload (proto(FILE:pkg.Msg, DATA))
//	harness/load              the load engine: closed loop, open loop (constant or Poisson), pacing
//	harness/record            HdrHistograms per worker, merging, summaries, error counts
//	harness/rpctarget         the target.Target of rpcbench transports (client side)
//	harness/serverproc        the server process the runner starts (rpcbench transports and peers), and its stats channel
//	harness/runner            runs a spec: servers, warm-up, repetitions, sweeps, progress
//	harness/remote            a server the harness did not start ('rpcbench serve' on another host), through its admin methods
//	harness/remote/remotetest an 'rpcbench serve --admin' in process, for tests
//	harness/resilience        resilience scenarios: instances behind a registry, a cluster client, faults
//	harness/results           results.json, the versioned source of truth
//	harness/loadmerge         merges the runs of several load processes into one
//	harness/fleet             load from worker processes coordinated through etcd
//	harness/timeseries        a measured window per 100 ms: calls and latency percentiles
//	harness/verdict           a run's conclusions: best cell, runner-up, margin and its interval
//	harness/report            report.md, report.html, .hgrm files and bench.txt
//	harness/report/peerreport each rpcbench cell beside its raw limit and gRPC
//	harness/compare           compares two runs; the regression gate
//	harness/compare/echoref   "tcp-echo", the reference cell the gate divides timings by
//
// Below the harness, and importing nothing of it (internal/layout's test
// checks this):
//
//	target          what a load target is (Target, Conn, Caller, Noop, Peer)
//	peers           the baselines: gRPC, net/rpc, raw-socket limit references
//	cost            CPU, allocations, RSS and wire-byte probes; CPU pinning
//	services        the methods a benchmark server offers; services/admin its counters
//	transports      the transport registry by name; transports/all links every transport
//
// # Adding a kind of cell target
//
// A cell drives a target.Target: anything that can open connections and
// make one call at a time per worker. rpcbench transports are one
// implementation (harness/rpctarget), the no-op generator-ceiling target
// another (target.Noop). A peer (gRPC, net/rpc, raw sockets) implements the
// same three small interfaces, is listed by package peers (peers.Names,
// peers.Lookup), and becomes a value of the transport dimension: a cell of
// the same matrix with the same server process handling, recording and
// reports.
package harness
