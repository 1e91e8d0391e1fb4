// Package wirestats counts the bytes that transports move through their
// sockets, per role, so that the harness can report bytes on the wire per
// call. Counters are process-wide and only ever grow; readers take deltas.
package wirestats

import (
	"net"
	"sync/atomic"
)

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

// ClientConn counts c's bytes in the Client counter: for client sockets
// opened by libraries other than rpcbench's transports (gRPC, fasthttp),
// through their dialer hooks.
func ClientConn(c net.Conn) net.Conn { return &clientConn{c} }

type clientConn struct{ net.Conn }

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	Client.In.Add(uint64(n))
	return n, err
}

func (c *clientConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	Client.Out.Add(uint64(n))
	return n, err
}
