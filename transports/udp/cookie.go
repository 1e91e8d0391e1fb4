package udp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"time"

	"rpcbench/wire"
)

// Source-address validation. A datagram's source address can be forged, so
// until an address has shown that it receives what is sent to it, the
// server sends it at most amplification times the bytes it received from
// it (QUIC's anti-amplification rule, RFC 9000 §8): a forged 32-byte report
// of missing fragments can no longer reflect a 6 KB cached reply at a
// victim. The proof is a stateless cookie, an HMAC of the address and a
// coarse time window under a per-server secret, which the server puts in
// its pong to the client's first ping (Dial's handshake) and in a cookie
// pong whenever the bound holds a datagram back; the client echoes it in a
// ping with wire.FlagCookie, after which the address is verified for the
// life of its session and pays one atomic load per datagram.
const (
	amplification = 3
	cookieLen     = 16
	cookieWindow  = time.Minute // a cookie is accepted in its window and the next
)

// cookieJar mints and checks cookies. It is safe for concurrent use.
type cookieJar struct {
	secret [32]byte
}

func newCookieJar() *cookieJar {
	j := &cookieJar{}
	rand.Read(j.secret[:])
	return j
}

// mint appends addr's cookie for the window of t.
func (j *cookieJar) mint(dst []byte, addr netip.AddrPort, t time.Time) []byte {
	m := hmac.New(sha256.New, j.secret[:])
	var buf [16 + 2 + 8]byte
	a := addr.Addr().As16()
	copy(buf[:], a[:])
	binary.BigEndian.PutUint16(buf[16:], addr.Port())
	binary.BigEndian.PutUint64(buf[18:], uint64(t.Unix()/int64(cookieWindow/time.Second)))
	m.Write(buf[:])
	var sum [sha256.Size]byte
	return append(dst, m.Sum(sum[:0])[:cookieLen]...)
}

// valid reports whether c is addr's cookie of the current window or the
// previous one.
func (j *cookieJar) valid(c []byte, addr netip.AddrPort, now time.Time) bool {
	if len(c) != cookieLen {
		return false
	}
	var buf [cookieLen]byte
	return hmac.Equal(c, j.mint(buf[:0], addr, now)) || hmac.Equal(c, j.mint(buf[:0], addr, now.Add(-cookieWindow)))
}

// addressBudget is what an unverified address may still be sent: it grows
// by amplification times each datagram received from it and shrinks by
// each datagram sent to it. Safe for concurrent use.
type addressBudget struct {
	verified atomic.Bool
	left     atomic.Int64
	// cookieDue: a datagram came since the last cookie pong, so one may be
	// sent when the budget holds a datagram back.
	cookieDue atomic.Bool
}

// received credits a datagram of n bytes from the address.
func (b *addressBudget) received(n int) {
	if b.verified.Load() {
		return
	}
	b.left.Add(amplification * int64(n))
	b.cookieDue.Store(true)
}

// spend reports whether n bytes may be sent, and takes them if so.
func (b *addressBudget) spend(n int) bool {
	if b.verified.Load() {
		return true
	}
	if b.left.Add(-int64(n)) < 0 {
		b.left.Add(int64(n))
		return false
	}
	return true
}

// cookieFrame is a pong carrying addr's cookie, request ID 0.
func cookieFrame(j *cookieJar, addr netip.AddrPort, buf []byte) wire.Frame {
	return wire.Frame{Kind: wire.KindPong, Flags: wire.FlagCookie, Payload: j.mint(buf[:0], addr, time.Now())}
}
