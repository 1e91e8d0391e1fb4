// Package target says what a load target is: the three small interfaces
// the load engine drives (Target, Conn, Caller), the generator-ceiling
// target Noop, and Peer, a target that is not an rpcbench transport (gRPC,
// net/rpc, a raw-socket reference) together with its server.
//
// It imports nothing of rpcbench, so that peers, external targets and the
// harness can all share it without depending on one another.
package target

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

// Verifier is implemented by targets that can check, before a cell runs,
// that a call returns the right answer. Verify is called by one goroutine,
// before any Caller of c runs.
type Verifier interface {
	Verify(ctx context.Context, c Conn) error
}

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

// Peer is a kind of cell target that is not an rpcbench transport — gRPC,
// net/rpc, a raw-socket reference — run by the harness as a value of the
// transport dimension, with the same server process handling, recording
// and reports. Its functions are safe for concurrent use.
type Peer struct {
	// Serve starts the peer's server listening on addr ("127.0.0.1:0"
	// picks a port) and returns the address it listens on and a function
	// that stops it and waits for its goroutines. The harness calls it in
	// a server process of its own. Nil means the target needs no server.
	Serve func(addr string) (actual string, stop func() error, err error)
	// NewTarget builds the client side of one cell.
	NewTarget func(PeerConfig) (Target, error)
	// Settings describes the peer's configuration (connections,
	// multiplexing, buffers, codec, versions) for the run's manifest.
	Settings func() map[string]string
	// Network is the kind of socket the peer uses, "tcp" (the default
	// when empty) or "udp", so that a network emulator can be put in its
	// path.
	Network string
}

// PeerConfig is what a peer target is asked to call.
type PeerConfig struct {
	// Addr is the address the server printed in its ready line.
	Addr        string
	Codec       string
	Compression string
	// Payload is a benchmark message name (Small, Medium, Large, Bytes(n)).
	Payload string
	Seed    int64
}
