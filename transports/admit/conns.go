package admit

import (
	"fmt"
	"log"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Conns counts a listener's open connections and refuses those over its
// caps. Admit and Release are safe for concurrent use; each admitted
// connection is released once, when it closes.
type Conns struct {
	name         string // the transport, for log lines
	max, perAddr int
	logf         func(format string, args ...any)

	mu       sync.Mutex
	open     int
	byAddr   map[netip.Addr]int
	refused  int       // since the last log line
	loggedAt time.Time // of the last log line
}

// logEvery spaces the log lines of refused connections, so that a flood
// of them does not flood the log too.
const logEvery = time.Second

// NewConns returns a counter enforcing l's connection caps (l filled);
// logf (log.Printf if nil) receives one line per second at most while
// connections are refused.
func NewConns(name string, l Limits, logf func(format string, args ...any)) *Conns {
	if logf == nil {
		logf = log.Printf
	}
	return &Conns{name: name, max: l.MaxConns, perAddr: l.MaxConnsPerAddr, logf: logf, byAddr: map[netip.Addr]int{}}
}

// Admit counts a new connection from addr, or reports false (and logs)
// when a cap is reached; an admitted connection must be Released.
func (c *Conns) Admit(addr net.Addr) bool {
	ip := addrIP(addr)
	c.mu.Lock()
	var why string
	switch {
	case c.max > 0 && c.open >= c.max:
		why = fmt.Sprintf("%d connections open, the listener's cap (MaxConns)", c.open)
	case c.perAddr > 0 && ip.IsValid() && c.byAddr[ip] >= c.perAddr:
		why = fmt.Sprintf("%d connections open from %v, the cap per address (MaxConnsPerAddr)", c.byAddr[ip], ip)
	default:
		c.open++
		c.byAddr[ip]++
		c.mu.Unlock()
		return true
	}
	c.refused++
	now := time.Now()
	if now.Sub(c.loggedAt) < logEvery {
		c.mu.Unlock()
		return false
	}
	n := c.refused
	c.refused, c.loggedAt = 0, now
	c.mu.Unlock()
	c.logf("%s: refusing a connection from %v: %s (%d refused since the last such line)", c.name, addr, why, n)
	return false
}

// Release uncounts a connection that Admit admitted.
func (c *Conns) Release(addr net.Addr) {
	ip := addrIP(addr)
	c.mu.Lock()
	c.open--
	if c.byAddr[ip]--; c.byAddr[ip] <= 0 {
		delete(c.byAddr, ip)
	}
	c.mu.Unlock()
}

// addrIP is the source IP of a TCP or UDP address; other addresses (Unix
// sockets) have none: the zero Addr, which no per-address cap concerns.
func addrIP(a net.Addr) netip.Addr {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
