package udp

import (
	"fmt"
	"strings"
	"time"

	"rpcbench/wire"
)

// Engines lists the server engines.
var Engines = []string{"net", "gnet"}

// Options configure the transport. Zero values select the defaults in
// brackets; both ends of a conversation should use the same MaxDatagram and
// MaxMessage.
type Options struct {
	// Engine is the server engine: "net" [default] or "gnet".
	Engine string
	// MaxMessage is the largest payload carried, reassembled from
	// fragments when needed [1 MiB]. Larger ones fail with
	// rpcbench.CodeResourceExhausted.
	MaxMessage int
	// MaxDatagram is the largest datagram sent, frame header included
	// [1200]; between 128 and 65507.
	MaxDatagram int

	// RetransmitInitial is the client's first retransmission timeout, used
	// until round trips have been measured [50ms].
	RetransmitInitial time.Duration
	// RetransmitMin and RetransmitMax bound the adaptive timeout
	// [20ms, 1s]; each retry doubles it up to RetransmitMax. The floor
	// keeps a busy machine's scheduling delays from passing for loss.
	RetransmitMin, RetransmitMax time.Duration
	// RetryTimeout fails a call (unavailable) when the server has shown no
	// sign of it — reply, fragment, acknowledgement — for this long [10s].
	RetryTimeout time.Duration
	// DialTimeout bounds Dial's check that the server answers, within the
	// context's deadline [3s].
	DialTimeout time.Duration

	// DedupTTL is how long the server keeps a reply for retransmitted
	// requests [30s]. DedupEntries caps answered requests remembered per
	// client address [16384]; DedupBytes caps the memory of remembered
	// requests and their replies across all addresses [64 MiB].
	DedupTTL     time.Duration
	DedupEntries int
	DedupBytes   int
	// MaxSessions caps the client addresses served at once [16384]; a new
	// address over the cap is answered with a resource-exhausted error.
	MaxSessions int
	// IdleTimeout reaps a client address's session after this long without
	// a datagram and with no call running [2m; never below DedupTTL].
	IdleTimeout time.Duration

	// FragmentWindow caps how many fragments of a message a sender sends
	// before it waits for the receiver's report of what is missing [256].
	// Within the cap the window adapts to loss, starting at 32.
	FragmentWindow int

	// ReassemblyTimeout discards a partial message after this long without
	// a new fragment [5s]. ReassemblyBytes caps the bytes held by partial
	// messages per server, and per client socket [64 MiB].
	ReassemblyTimeout time.Duration
	ReassemblyBytes   int

	// SocketBuffer is the SO_RCVBUF/SO_SNDBUF size asked for; the kernel
	// may grant less (net.core.rmem_max) [4 MiB].
	SocketBuffer int
	// ReadBatch is how many datagrams the net engine reads per system call
	// [32].
	ReadBatch int
	// GnetLoops is the gnet engine's number of event loops [one per CPU].
	GnetLoops int
}

const (
	fragHeaderLen   = 8
	minDatagram     = 128
	maxDatagram     = 65507
	defaultMessage  = 1 << 20
	defaultDatagram = 1200
)

func (o *Options) fill() error {
	switch o.Engine {
	case "":
		o.Engine = "net"
	case "net", "gnet":
	default:
		return fmt.Errorf("udp: unknown engine %q (valid: %s)", o.Engine, strings.Join(Engines, ", "))
	}
	if o.MaxDatagram == 0 {
		o.MaxDatagram = defaultDatagram
	}
	if o.MaxDatagram < minDatagram || o.MaxDatagram > maxDatagram {
		return fmt.Errorf("udp: MaxDatagram %d outside [%d, %d]", o.MaxDatagram, minDatagram, maxDatagram)
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = defaultMessage
	}
	if n := fragmentCount(o.MaxMessage, o.chunk()); n > 0xFFFF {
		return fmt.Errorf("udp: MaxMessage %d needs %d fragments of %d bytes; at most 65535", o.MaxMessage, n, o.chunk())
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RetransmitInitial, 50*time.Millisecond)
	def(&o.RetransmitMin, 20*time.Millisecond)
	def(&o.RetransmitMax, time.Second)
	o.RetransmitMax = max(o.RetransmitMax, o.RetransmitMin)
	def(&o.RetryTimeout, 10*time.Second)
	def(&o.DialTimeout, 3*time.Second)
	def(&o.DedupTTL, 30*time.Second)
	def(&o.IdleTimeout, 2*time.Minute)
	o.IdleTimeout = max(o.IdleTimeout, o.DedupTTL)
	def(&o.ReassemblyTimeout, 5*time.Second)
	if o.DedupEntries <= 0 {
		o.DedupEntries = 16384
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 16384
	}
	if o.DedupBytes <= 0 {
		o.DedupBytes = 64 << 20
	}
	if o.ReassemblyBytes <= 0 {
		o.ReassemblyBytes = 64 << 20
	}
	if o.SocketBuffer <= 0 {
		o.SocketBuffer = 4 << 20
	}
	if o.FragmentWindow <= 0 {
		o.FragmentWindow = 256
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 32
	}
	return nil
}

// chunk is the message bytes one fragment carries.
func (o *Options) chunk() int { return o.MaxDatagram - wire.HeaderLen - fragHeaderLen }

// single reports whether a payload of n bytes fits one datagram.
func (o *Options) single(n int) bool { return wire.HeaderLen+n <= o.MaxDatagram }

// reportRanges is how many ranges a report of missing fragments holds.
func (o *Options) reportRanges() int { return o.datagramPayload() / 4 }

// datagramPayload is the largest payload of a datagram's frame.
func (o *Options) datagramPayload() int { return o.MaxDatagram - wire.HeaderLen }

// recvBuffer is the size of a receive buffer: larger than any datagram a
// peer with the same settings sends, so truncation shows as a bad frame.
func (o *Options) recvBuffer() int { return max(o.MaxDatagram+1, 2048) }

func fragmentCount(total, chunk int) int { return (total + chunk - 1) / chunk }
