// Package netem impairs a network path in user space: a relay placed
// between a client and a server delays, jitters, rate-limits, loses,
// duplicates and reorders their traffic as a Profile says. The kernel
// here has no netem queueing discipline, so the harness puts a relay in
// the path of cells with a network profile.
//
// # The model
//
// Each direction is a bottleneck followed by a path. The bottleneck
// serializes packets at the link's rate (size×8/rate each) behind a queue
// holding at most Queue of waiting time; it is shared by every flow of a
// relay direction, as connections share a real bottleneck. The path adds
// the one-way delay plus normal jitter, cut so that a packet never
// overtakes the one ahead of it: jitter does not reorder. Loss is random
// or bursty (Gilbert–Elliott: two states, all loss in the bad one,
// transitions chosen so the average is the given loss and the mean burst
// LossBurst packets). Datagrams may also be duplicated, or reordered by
// skipping the delay (netem's semantics).
//
// A per-direction scheduler goroutine delivers packets from a time-ordered
// queue, woken by rpcbench/wakeup (a timerfd plus a Go timer): a Go timer
// alone wakes an idle process up to a millisecond late. Stats report how
// late deliveries were, so a cell can tell the emulator's own error.
//
// # Loss on a TCP stream
//
// A user-space relay sees bytes, not segments: it cannot drop part of a
// stream without corrupting it, and the kernels at both ends never see a
// loss on loopback. The TCP relay therefore models what a loss costs TCP
// rather than the loss itself. Each chunk counts as ceil(size/1448)
// segments, each lost with the link's probability; a chunk with a lost
// segment arrives Recovery late — 2×RTT, at least 10 ms, Linux's tail
// loss probe timeout (PTO = 2·SRTT) after which the retransmission goes
// out — and, as the path delivers in order, everything behind it on that
// connection waits too. That stall is TCP's head-of-line blocking. Not
// modelled: the 200 ms minimum RTO path (a lost retransmission, or a lone
// segment in flight), congestion window reduction after a loss. The
// bottleneck's queue does not drop TCP either: when it is full the relay
// stops reading, and the sender's window closes.
//
// Datagrams (UDP, and QUIC over UDP) are lost for real, so QUIC's own
// recovery and its independent streams are what is measured.
//
// # Why not toxiproxy
//
// github.com/Shopify/toxiproxy/v2 was considered and not used:
//
//   - It relays TCP only; the UDP relay (UDP and QUIC) has to be written
//     anyway, and one impairment model for both keeps TCP and QUIC cells
//     comparable.
//   - Its latency toxic sleeps per chunk in one goroutine, so chunk n+1 is
//     held back by chunk n's delay: pipelined requests on a multiplexed
//     connection get serialized delays, a pipe rather than a link. Its
//     times are whole milliseconds (a LAN's 0.1 ms cannot be expressed)
//     and its sleeps are time.After's.
//   - Its bandwidth toxic paces each chunk at KB/s, with no bounded queue
//     and no shared bottleneck between connections.
//   - It has no loss model for a stream, and it would bring an HTTP API,
//     prometheus, zerolog and gorilla/mux into the module for none of it.
package netem
