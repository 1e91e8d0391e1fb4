// Package quic is rpcbench's transport over QUIC (quic-go). It carries the
// same frames as every other transport (package wire) in one of two modes,
// chosen by the client:
//
//   - "stream" (default, ALPN "rpcbench"): one bidirectional QUIC stream per
//     call. The client opens a stream, writes the request frame and closes
//     its send side; the server reads to io.EOF, hands the frame to the core,
//     writes the reply frame and closes; the client reads to io.EOF. Reading
//     to EOF on both sides is what completes a stream and returns its credit:
//     a stream left half-read counts against MaxStreams for ever, and
//     OpenStreamSync then hangs. Cancelling a call resets its stream in both
//     directions (CancelRead and CancelWrite); the server sees STOP_SENDING
//     end the stream's context and passes a cancel frame for that request ID
//     to the core. Heartbeat pings travel on a stream of their own and are
//     answered by the server transport.
//   - "mux" (ALPN "rpcbench-mux"): long-lived streams per connection
//     (MuxStreams), each a framing.Conn carrying framed requests with IDs,
//     exactly as over TCP, with the same write coalescing. Request r goes on
//     stream r mod MuxStreams; the server answers on the stream of the same
//     index it has accepted, and the client merges its streams, routing
//     replies by request ID. MuxStreams defaults to 1: on loopback four
//     streams cost 1.7x the CPU per call of one at 64 callers (a hand-off
//     per reply between stream readers and Recv, and less coalescing); more
//     streams only pay off where packet loss would block one stream's
//     replies behind another's (head-of-line blocking), which QUIC confines
//     to a stream.
//
// Stream mode pays for QUIC's per-stream setup on every call; mux mode pays
// for it once. On 2 loopback cores at 64 callers (TestEchoRatios), stream
// mode runs at 0.9-1.0x the calls/s of raw quic-go doing the same
// stream-per-call echo; mux mode at about 6x. What stream mode adds over raw
// quic-go is the core's interface: the reply is read by a per-call reader
// and handed to the connection's one Recv goroutine, then to the caller (two
// hand-offs where raw quic-go has the caller read its own stream), plus the
// cancellation watch on each server stream. Readers are pooled goroutines,
// so that their stacks, grown in quic-go's Read, are kept.
//
// A server speaks both modes on one port and tells them apart by ALPN; each
// QUIC connection is one core session (one Connect), whatever its streams.
//
// TLS: QUIC always has it. With no certificate configured a self-signed one
// is made at start-up (package tlsconf) and clients skip verification, which
// is for loopback benchmarks only; give certificate and key files for real
// use.
//
// Liveness: clients send QUIC keep-alives every KeepAlivePeriod (default
// 10s) and both sides drop a connection silent for MaxIdleTimeout (default
// 30s). A client's UDP socket is connected to its server, so an ICMP "port
// unreachable" (the server process is gone) ends the connection, and a dial
// to a port nobody listens on fails, within one round trip instead of after
// a time-out; other ICMP errors (too big, host unreachable) are ignored as
// QUIC requires. Either way pending calls fail with unavailable.
//
// Shutdown: closing a server connection first tells the client to go away
// (stream mode: an empty unidirectional stream; mux: FIN on every stream
// after the replies already queued), refuses new call streams with a reset
// that the client turns into an unavailable error, and closes the QUIC
// connection when the client has collected its replies and hung up, or after
// closeLinger at the latest. The UDP socket is released when the listener is
// closed and its last connection has ended.
//
// UDP buffers: quic-go wants 7 MiB socket buffers and logs a warning when it
// cannot get them. This package asks for them itself (SO_RCVBUF/SO_SNDBUF,
// and quic-go retries with the privileged *BUFFORCE options), reports what
// the kernel granted through SocketBuffers so that a benchmark manifest can
// record it, and sets QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true unless
// the variable is already set. The warning is silenced deliberately: RPC
// traffic of small frames on loopback does not fill even the 208 KiB
// default buffer (the benchmarks report lost packets, which stay at 0), and
// the granted size is published rather than printed. For bulk transfers over
// real networks raise the limits: sysctl -w net.core.rmem_max=7500000
// net.core.wmem_max=7500000.
//
// Byte counting: every datagram's UDP payload is counted in wirestats at the
// socket, by a wrapper around the *net.UDPConn that keeps quic-go's
// optimised path (recvmmsg batches, GSO, ECN): it implements the same
// interfaces quic-go type-asserts (OOBCapablePacketConn and ReadBatch), so
// the only cost is one atomic add per system call; the benchmarks measure
// raw quic-go with and without it.
package quic
