package harness

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Peer is a kind of cell target that is not an rpcbench transport — gRPC,
// net/rpc, a raw-socket reference — run by the same harness as a value of
// the transport dimension. Register one in an init function of a package
// that the rpcbench binary imports:
//
//	harness.RegisterPeer("grpc", harness.Peer{
//		ServerArgs: func(addr string) []string { return []string{"peer-server", "--peer", "grpc", "--addr", addr} },
//		NewTarget:  newGRPCTarget,
//	})
//
// and "grpc" becomes valid in specs (transport: [tcp, grpc]).
type Peer struct {
	// ServerArgs returns the arguments with which the runner starts the
	// rpcbench binary as this peer's server process; the process must
	// print the ready line and answer the stats channel as
	// harness/serverproc describes (serverproc.Serve-like). Nil means the
	// target needs no server process.
	ServerArgs func(addr string) []string
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

// Verifier is implemented by targets that can check, before a cell runs,
// that a call returns the right answer.
type Verifier interface {
	Verify(ctx context.Context, c Conn) error
}

var peers = struct {
	sync.RWMutex
	m map[string]Peer
}{m: map[string]Peer{}}

// RegisterPeer adds a peer under name; duplicates panic.
func RegisterPeer(name string, p Peer) {
	peers.Lock()
	defer peers.Unlock()
	if _, dup := peers.m[name]; dup || p.NewTarget == nil {
		panic(fmt.Sprintf("harness: peer %q registered twice or without NewTarget", name))
	}
	peers.m[name] = p
}

// LookupPeer returns the peer registered as name.
func LookupPeer(name string) (Peer, bool) {
	peers.RLock()
	defer peers.RUnlock()
	p, ok := peers.m[name]
	return p, ok
}

// PeerNames lists the registered peers.
func PeerNames() []string {
	peers.RLock()
	defer peers.RUnlock()
	return slices.Sorted(maps.Keys(peers.m))
}
