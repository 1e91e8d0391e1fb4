// Package peers holds the baselines the harness measures rpcbench against,
// in the same run and as cells of the same matrix: gRPC-go, net/rpc (gob
// and JSON-RPC), and raw-socket limit references that move bytes with no
// RPC layer at all. Each limit has the design of one rpcbench transport,
// so that dividing by it measures the RPC layer alone: raw-tcp-pingpong
// (tcp, one caller), raw-tcp-pipelined (tcp, a shared connection),
// raw-udp-batched (udp: one socket, batched system calls), raw-fasthttp
// (http1), raw-quic (quic, a stream per call) and raw-quic-mux (quic+mux,
// one stream per connection). raw-udp (a socket per caller) answers
// instead what a naive client gets.
//
// Each peer is a target.Peer, listed by Names and found by Lookup; the
// harness asks for them by name, so a peer's name is a value of a spec's
// transport dimension. This package imports nothing of the harness (only
// target, codecs/benchmsg and transports/tlsconf within rpcbench): it
// provides the server function and the client target, and the harness
// runs the server in its own process, started by the runner as
//
//	rpcbench bench-server --transport <peer> --addr 127.0.0.1:0
//
// which hands over to serverproc.ServePeer (same ready line and stats
// channel as for rpcbench transports). Its client side is a target.Target;
// one Dial is one connection (or the peer's equivalent: see each peer's
// Settings), so the cell's connections dimension counts the same thing it
// counts for rpcbench transports.
//
// Payloads. gRPC and net/rpc carry the cell's benchmark message (Small,
// Medium, Large, Bytes(n)) with their own codec — protobuf for gRPC, gob or
// encoding/json for net/rpc — and the server decodes and re-encodes it, as
// rpcbench's Bench.Echo* methods do. The raw peers have no codec: they echo
// opaque bytes, exactly n of them for Bytes(n), and for a message payload
// the bytes of its protobuf encoding (so their wire size equals what the
// proto codec puts in a frame's payload). The codec and compression
// dimensions mean nothing to them and are recorded as such.
//
// Server-side figures. A peer's server reports the process's CPU,
// allocations and RSS like bench-server does; calls and socket byte
// counters (wirestats) are rpcbench's own instrumentation and stay zero.
package peers
