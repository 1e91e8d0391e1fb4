// Package wirestats counts the bytes that transports move through their
// sockets, per role, so that the harness can report bytes on the wire per
// call. Counters are process-wide and only ever grow; readers take deltas.
package wirestats

import "sync/atomic"

// Counter is a pair of byte counts for one role.
type Counter struct {
	In, Out atomic.Uint64
}

// Client and Server count bytes read and written by client and server
// sockets of every transport in this process (payload bytes of datagrams
// for UDP and QUIC).
var (
	Client Counter
	Server Counter
)

// Snapshot is a copy of the counters at one moment.
type Snapshot struct {
	ClientIn, ClientOut, ServerIn, ServerOut uint64
}

// Take reads every counter.
func Take() Snapshot {
	return Snapshot{Client.In.Load(), Client.Out.Load(), Server.In.Load(), Server.Out.Load()}
}

// Sub returns s - o, field by field.
func (s Snapshot) Sub(o Snapshot) Snapshot {
	return Snapshot{s.ClientIn - o.ClientIn, s.ClientOut - o.ClientOut, s.ServerIn - o.ServerIn, s.ServerOut - o.ServerOut}
}

// Add returns s + o, field by field.
func (s Snapshot) Add(o Snapshot) Snapshot {
	return Snapshot{s.ClientIn + o.ClientIn, s.ClientOut + o.ClientOut, s.ServerIn + o.ServerIn, s.ServerOut + o.ServerOut}
}
