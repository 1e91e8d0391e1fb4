// Package udp is rpcbench's datagram transport: every frame of package wire
// travels in UDP datagrams, and this package makes calls over them correct
// although datagrams are lost, duplicated and reordered.
//
// # Datagrams
//
// A datagram holds exactly one wire frame and is at most Options.MaxDatagram
// bytes (default 1200, which fits any path MTU in practice). A payload that
// does not fit is sent as fragments: frames with the same kind, codec,
// compression, call ID, request ID and budget as the whole message, flag
// wire.FlagFragment on every one and wire.FlagLastFragment on the last,
// and a payload that starts with an 8-byte fragment header (big-endian):
//
//	offset  size  field
//	0       4     total: length of the whole message payload
//	4       2     index: this fragment's number, 0 .. count-1
//	6       2     count: number of fragments, at least 2
//	8       n     chunk
//
// Every fragment but the last carries a chunk of the same size c, placed at
// index*c; the last carries the rest, total-(count-1)*c bytes. A message is
// at most Options.MaxMessage bytes (default 1 MiB); larger ones are refused
// locally with an rpcbench.CodeResourceExhausted error (a request by the
// client, a reply by the server, which sends that error instead).
//
// # Reliability
//
// The client core numbers requests; this transport adds a random per-socket
// base to those numbers on the wire (as Sun RPC randomises its XIDs), so that
// a client that reuses a port is never mistaken for the previous one.
//
//   - The client keeps a copy of every request until its reply arrives and
//     retransmits it, with the same request ID, after a timeout that adapts
//     to the measured round trip (Jacobson/Karels; Karn's rule, keeping the
//     backed-off timeout until a clean sample; Dial's ping gives the first
//     sample) and doubles on every retry. It stops when the reply arrives, when the caller
//     cancels (the core's cancel frame), when the request's time budget has
//     passed (the core then reports deadline exceeded), or when the server
//     has shown no sign of the call for Options.RetryTimeout, in which case
//     the call fails with rpcbench.CodeUnavailable.
//   - Replies whose request is no longer outstanding (late, duplicated,
//     answered already, abandoned) are dropped.
//   - The server keeps a duplicate-request cache per client address and
//     request ID. A request it has never seen runs; a copy of one still
//     running is answered with an in-progress acknowledgement; a copy of
//     one answered already gets the cached reply again; a copy of one the
//     caller cancelled is dropped. Entries of answered requests live for
//     Options.DedupTTL, at most Options.DedupEntries per address and
//     Options.DedupBytes in all (each address evicts its own oldest
//     first); running ones are never evicted. A request thus runs at most
//     once as long as its copies arrive within the cache's lifetime, which
//     the client's retry limits keep well inside. A cancel that overtakes
//     its request leaves a tombstone, so the request does not run late.
//
// # A table of calls of its own
//
// The stream transports leave calls in flight to the core's table
// (rpcbench's pendingTable), which holds the callers waiting for a reply
// and nothing else. This transport keeps a second table, by the core's
// request ID, because what it must remember per call is not what a caller
// waits for, and must be consulted for every datagram before anything
// reaches the core:
//
//   - the request's bytes (its datagram, or its payload for fragments),
//     its retransmission timer, timeout, tries and send time (for Karn's
//     rule), and the fragment window: what the network may need again;
//   - the reply's partial reassembly, and which fragments to ask for;
//   - whether the call is still outstanding at all, so that a late or
//     duplicated reply, or an in-progress pong, is dropped or acted on
//     here and the timer stops when the call ends, whether by reply,
//     cancel, budget or giving up.
//
// The core's table cannot hold these without learning about datagrams,
// and this transport cannot use the core's table without reaching under
// its lock; the core sees an ordinary ClientConn. Two more things follow
// from datagrams:
//
//   - The core's request IDs (a slot index and its generation) are small
//     and repeat across sockets, so on the wire this transport adds a
//     random per-socket base, as described above: the server's duplicate
//     cache is keyed by address and request ID, and a new socket on a
//     reused port must not be answered from the old one's cache.
//   - When the transport itself fails a call (a request over MaxMessage,
//     retransmission given up, the budget spent), the only way to tell
//     the core through ClientConn is a reply: Recv returns an error frame
//     for that request ID carrying an rpcbench error code, so the caller
//     sees the same codes as for a server's errors.
//
// # Control frames
//
// Ping and pong frames with request ID 0 are the core's heartbeats and pass
// through. With a non-zero request ID they are this transport's own:
//
//	pong, empty payload     server→client  request is running (keep waiting, retry slowly)
//	pong, ranges            server→client  request fragments missing: resend them
//	ping, ranges            client→server  reply fragments missing: resend them
//	error, request ID 0     server→client  the server has closed this client's session
//
// Ranges are pairs of 16-bit numbers (first missing index, how many), as
// many as fit a datagram, lowest first.
//
// A sender sends a fragmented message in bursts that always end with the
// last fragment: first a window of fragments from the start, then, for each
// report, up to a window of the fragments it names. The receiver answers
// the arrival of a last fragment with a report while fragments are missing
// (unless nothing new has come since a report less than 5 ms old: that is
// a duplicate, not a probe), so a message moves a window per round trip.
// The window adapts like TCP's congestion window, since a burst larger
// than the receiver's socket buffer loses its end: it starts at 32
// fragments, doubles per lossless round (up to a threshold, then grows by
// an eighth), and halves when a report shows losses within the burst or
// the client had to probe (Options.FragmentWindow caps it). A client
// whose request is not answered in time sends its last fragment again, or,
// if part of the reply has arrived, a report of the reply fragments it
// misses; fragments or reports that arrive re-arm its timer.
//
// Reassembly is bounded: a message's total length (MaxMessage) and
// fragment count (what MaxMessage needs in MaxDatagram-sized datagrams) are
// checked on its first fragment before anything is allocated; partial
// messages of a server (or of one client socket) hold at most
// Options.ReassemblyBytes, at most 64 per client address; and one that
// gets no new fragment for Options.ReassemblyTimeout is discarded.
//
// # Source addresses
//
// A source address can be forged, so until a client address has proven it
// receives what is sent there, the server sends it at most three times the
// bytes it received from it (QUIC's anti-amplification rule); what is over
// is held back, counted in Stats.AmplificationHeld. The proof is a cookie:
//
//	pong, cookie flag, request ID 0   server→client  the address's cookie
//	ping, cookie flag, request ID 0   client→server  the cookie echoed back
//
// The server answers the first heartbeat ping of an unverified address
// (Dial's handshake) with a cookie pong, and sends one when the bound holds
// a datagram back; the client echoes every cookie it is given. The cookie
// is 16 bytes of HMAC-SHA256 over the address and a one-minute window under
// a per-listener random secret, accepted in its window and the next, so
// the server keeps no state for addresses that never echo. A verified
// address stays verified for the life of its session and costs an atomic
// load per datagram; a client is verified by the end of Dial.
//
// # Connections
//
// A client's ClientConn is one connected UDP socket, so that the kernel
// filters other senders and reports an ICMP port-unreachable from a server
// that has gone as ECONNREFUSED, failing the connection's calls at once.
// Dial checks that a server answers (a ping) before it returns.
//
// The server keeps a pseudo-connection per client address: a ServerConn and
// the core's Session, made on the first datagram from that address (at most
// Options.MaxSessions) and reaped after Options.IdleTimeout without traffic
// and with no call running. Closing one (the core does so at the end of
// Shutdown) tells the client with an error frame of request ID 0, which
// fails its pending calls with unavailable at once; should that datagram be
// lost, the closed socket's port-unreachable does it. Listener.Close stops making new pseudo-connections (new
// addresses are answered with an unavailable error); the socket itself
// closes, and Serve returns, when the last pseudo-connection has closed.
//
// # Engines
//
// The server reads with one of two engines: "net" (default), a goroutine
// reading its socket in batches (recvmmsg(2) on Linux, without an
// allocation per datagram), and "gnet", gnet/v2's event loops (one
// SO_REUSEPORT socket per loop). Both hand datagrams to the same
// dispatcher; handlers run on the core's goroutines. The net engine and
// clients write through a coalescing writer: concurrent datagrams leave in
// one sendmmsg(2). The gnet engine replies with gnet's AsyncWrite.
//
// Retransmission, caching and fragmentation counters are in ReadStats;
// datagram bytes go to package wirestats.
package udp
