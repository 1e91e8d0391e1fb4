// Package harness is rpcbench's benchmark harness. This package holds the
// contract between the load engine and what it measures; the work lives in
// the sub-packages:
//
//	harness/spec        the YAML matrix spec: parsing, validation, cells and their keys
//	harness/load        the load engine: closed loop, open loop (constant or Poisson), pacing
//	harness/record      HdrHistograms per worker, merging, summaries, error counts
//	harness/cost        CPU, allocations, RSS and wire-byte probes; CPU pinning
//	harness/rpctarget   Target for rpcbench transports (client side)
//	harness/serverproc  the server process the runner starts, and its stats channel
//	harness/runner      runs a spec: servers, warm-up, repetitions, sweeps, progress
//	harness/resilience  resilience scenarios: instances behind a registry, a cluster client, faults
//	harness/results     results.json, the versioned source of truth
//	harness/report      report.md, report.html, .hgrm files and bench.txt
//
// # Adding a kind of cell target
//
// A cell drives a Target: anything that can open connections and make one
// call at a time per worker. rpcbench transports are one implementation
// (harness/rpctarget), the no-op generator-ceiling target another (Noop).
// A peer (gRPC, net/rpc, raw sockets) implements the same three small
// interfaces, registers itself by name with RegisterPeer (see Peer), and
// becomes a value of the transport dimension: a cell of the same matrix
// with the same server process handling, recording and reports.
package harness

import "context"

// Target is a system under test as the load engine sees it.
// Implementations are safe for concurrent use.
type Target interface {
	// Dial opens one connection (or the peer's equivalent of one).
	Dial(ctx context.Context) (Conn, error)
}

// Conn is one connection that several workers share. NewCaller and Close
// are called by the engine's goroutine; Close is called once, after every
// caller has stopped.
type Conn interface {
	// NewCaller returns the call function of one worker. It is used by one
	// goroutine only and may keep per-worker state (buffers, a decode
	// target) so that steady-state calls allocate only what the system
	// under test allocates.
	NewCaller() (Caller, error)
	Close() error
}

// Caller makes one call and waits for its reply. ctx carries no per-call
// deadline (that would allocate on every call); it is cancelled when the
// run's hard deadline passes.
type Caller func(ctx context.Context) error

// Noop is the generator-ceiling target: a call that does nothing. A cell
// with it measures what the load engine itself can drive, which must be far
// above any real cell for the real cells' numbers to be about the system
// under test rather than the generator.
type Noop struct{}

// Dial implements Target.
func (Noop) Dial(context.Context) (Conn, error) { return noopConn{}, nil }

type noopConn struct{}

func (noopConn) NewCaller() (Caller, error) { return noopCall, nil }
func (noopConn) Close() error               { return nil }

func noopCall(context.Context) error { return nil }
