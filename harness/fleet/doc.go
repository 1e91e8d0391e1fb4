// Package fleet generates a cell's load on several worker processes,
// usually on several hosts, coordinated through etcd: "rpcbench worker
// --coordinator etcd://HOST:2379/PREFIX" on each load host, and "rpcbench
// bench --workers etcd://HOST:2379/PREFIX --expect N --server ADDR" once.
//
// Every key lives under PREFIX (default /rpcbench/fleet/):
//
//	run                  the run: its id, the server, the spec (coordinator's lease)
//	workers/NAME         a worker that has joined (worker's lease)
//	ping/NAME, pong/NAME clock offset exchange: the coordinator's time out, the worker's back
//	cells/SEQ            one repetition of one cell: its parameters and each worker's share
//	ready/SEQ/NAME       the worker has dialled and warmed up, and waits
//	start/SEQ            the agreed start instant (coordinator's clock, ~200 ms ahead), or why not
//	up/SEQ/NAME/IDX      the worker's repetition, gzip'd JSON in chunks (worker's lease)
//	done/SEQ/NAME        the upload's chunk count, size and SHA-256 (worker's lease)
//
// The runner reads the server's costs once every worker is ready and
// again after the last upload: that span holds every worker's window and
// only idle time besides (the start delay, the uploads), whose server CPU
// is counted in the per-call figures.
//
// A lease lost is a process lost. A worker's lease expiring mid-cell marks
// the repetition degraded, naming the worker and the moment; so does a
// worker that stalls (no upload within the window, its grace and
// stallSlack). The others' figures are kept apart, never merged. The
// coordinator's lease carries the run key: when it expires, every worker
// stops its load and exits. A worker that joins mid-cell takes its share
// from the next one: each cell's load is split among the workers alive
// when it is published.
//
// etcd refuses a request larger than --max-request-bytes, 1.5 MiB by
// default; an upload (a repetition's figures with its encoded histograms
// and series) is gzip'd and cut into chunks of ChunkSize (512 KiB), each
// its own request, checked by the SHA-256 of the whole.
package fleet
