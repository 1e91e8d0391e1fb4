package quic

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	quicgo "github.com/quic-go/quic-go"
	"golang.org/x/net/ipv4"

	"rpcbench/wirestats"
)

// countingConn is a UDP socket that counts datagram payload bytes into a
// wirestats counter. It implements everything quic-go looks for on a
// *net.UDPConn (OOBCapablePacketConn, SetWriteBuffer, and ReadBatch through
// an ipv4.PacketConn on the same socket) so that wrapping costs no
// optimisation: batched reads, GSO and ECN stay on.
//
// A connected socket (clients) hears ICMP errors: "port unreachable" is
// passed up as ECONNREFUSED, which makes quic-go close the transport at once;
// the other ICMP errors are soft and the read is retried.
type countingConn struct {
	*net.UDPConn
	batch     *ipv4.PacketConn
	stats     *wirestats.Counter
	connected bool
}

var (
	_ quicgo.OOBCapablePacketConn = (*countingConn)(nil)
	_ interface {
		ReadBatch([]ipv4.Message, int) (int, error)
	} = (*countingConn)(nil)
)

func newCountingConn(c *net.UDPConn, stats *wirestats.Counter, connected bool) *countingConn {
	return &countingConn{UDPConn: c, batch: ipv4.NewPacketConn(c), stats: stats, connected: connected}
}

func (c *countingConn) in(n int) {
	if n > 0 {
		c.stats.In.Add(uint64(n))
	}
}

func (c *countingConn) out(n int) {
	if n > 0 {
		c.stats.Out.Add(uint64(n))
	}
}

// ReadBatch is quic-go's receive path on Linux (recvmmsg).
func (c *countingConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	for {
		n, err := c.batch.ReadBatch(ms, flags)
		var total int
		for i := 0; i < n; i++ {
			total += ms[i].N
		}
		c.in(total)
		if err != nil && n == 0 && c.softICMP(err) {
			continue
		}
		return n, err
	}
}

func (c *countingConn) ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	for {
		n, oobn, flags, addr, err = c.UDPConn.ReadMsgUDP(b, oob)
		c.in(n)
		if err != nil && c.softICMP(err) {
			continue
		}
		return
	}
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(b)
		c.in(n)
		if err != nil && c.softICMP(err) {
			continue
		}
		return n, addr, err
	}
}

// WriteMsgUDP is quic-go's send path (with GSO, n covers every segment). A
// connected socket must not be given an address.
func (c *countingConn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (n, oobn int, err error) {
	if c.connected {
		addr = nil
	}
	n, oobn, err = c.UDPConn.WriteMsgUDP(b, oob, addr)
	if err != nil && c.softICMP(err) {
		// A connected socket reports an earlier ICMP error on the next
		// send, once; this packet was not sent, so send it again.
		n, oobn, err = c.UDPConn.WriteMsgUDP(b, oob, addr)
	}
	c.out(n)
	return
}

func (c *countingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var n int
	var err error
	for try := 0; try < 2; try++ {
		if c.connected {
			n, err = c.UDPConn.Write(b)
		} else {
			n, err = c.UDPConn.WriteTo(b, addr)
		}
		if err == nil || !c.softICMP(err) {
			break
		}
	}
	c.out(n)
	return n, err
}

// softICMP reports whether err is an ICMP error that a connected socket
// reports but QUIC must ignore (RFC 9000 §14.2.1: packet too big, host or
// network unreachable). "Port unreachable" (ECONNREFUSED) is not soft: no
// process owns the server's port any more.
func (c *countingConn) softICMP(err error) bool {
	if !c.connected {
		return false
	}
	for _, errno := range []syscall.Errno{syscall.EMSGSIZE, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN, syscall.EPROTO, syscall.ENOPROTOOPT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// wantBuffer is the socket buffer size quic-go asks for.
const wantBuffer = 7 << 20

const envBufferWarning = "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING"

var (
	grantedRcv, grantedSnd atomic.Int64
	silenceOnce            sync.Once
)

// SocketBuffers returns the receive and send buffer sizes (bytes, as the
// kernel reports them) of the most recent socket this package opened, for
// a benchmark manifest. quic-go asks for 7 MiB; the kernel caps the request
// at net.core.rmem_max / wmem_max unless the process may force it.
func SocketBuffers() (rcv, snd int) {
	return int(grantedRcv.Load()), int(grantedSnd.Load())
}

// prepareSocket asks for quic-go's buffer sizes before quic-go does, so that
// it finds them granted where the kernel allows, and silences quic-go's
// warning (see the package doc for why) unless the user chose otherwise.
func prepareSocket(c *net.UDPConn) {
	silenceOnce.Do(func() {
		if _, set := os.LookupEnv(envBufferWarning); !set {
			os.Setenv(envBufferWarning, "true")
		}
	})
	_ = c.SetReadBuffer(wantBuffer)
	_ = c.SetWriteBuffer(wantBuffer)
}
