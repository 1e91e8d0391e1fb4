// Package admit bounds what a server admits from its clients: open
// connections (in all and per source address), the bytes of requests being
// received, and the time a started request may take to arrive. Every
// server-side transport applies the same Limits, so that one hostile client
// cannot take the memory, sockets or goroutines of a server that is
// reachable by anyone.
package admit

import "time"

// Limits are a listener's bounds. Zero values select the defaults in
// brackets, chosen far above what a benchmark needs; a negative value turns
// a bound off.
type Limits struct {
	// MaxConns caps a listener's open connections [16384]. A connection
	// over the cap is closed at once and logged.
	MaxConns int
	// MaxConnsPerAddr caps the open connections from one source IP address
	// [4096].
	MaxConnsPerAddr int
	// FrameTimeout is how long a request may take to arrive once its first
	// byte is in [10s]; a connection whose request is late is closed. It
	// ends slow senders (slowloris) whom an idle timeout, re-armed by
	// every byte, would keep.
	FrameTimeout time.Duration
	// MaxInProgress caps a listener's memory for requests being received:
	// read buffers grown past their small initial size to hold partial
	// frames [256 MiB]. A reader that needs more waits (and its peer with
	// it) until other requests complete, and gives up at FrameTimeout.
	MaxInProgress int
	// MaxInProgressPerConn caps that memory per connection, where one
	// connection carries several requests at once (QUIC streams) [32 MiB].
	MaxInProgressPerConn int
}

// Defaults.
const (
	DefaultMaxConns             = 16384
	DefaultMaxConnsPerAddr      = 4096
	DefaultFrameTimeout         = 10 * time.Second
	DefaultMaxInProgress        = 256 << 20
	DefaultMaxInProgressPerConn = 32 << 20
)

// Fill replaces zero values with the defaults and negative ones with 0
// (no bound).
func (l Limits) Fill() Limits {
	pick := func(v *int, d int) {
		if *v == 0 {
			*v = d
		} else if *v < 0 {
			*v = 0
		}
	}
	pick(&l.MaxConns, DefaultMaxConns)
	pick(&l.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	pick(&l.MaxInProgress, DefaultMaxInProgress)
	pick(&l.MaxInProgressPerConn, DefaultMaxInProgressPerConn)
	if l.FrameTimeout == 0 {
		l.FrameTimeout = DefaultFrameTimeout
	} else if l.FrameTimeout < 0 {
		l.FrameTimeout = 0
	}
	return l
}
