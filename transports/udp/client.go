package udp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// clientConn is one connected UDP socket carrying a client core's calls. It
// keeps every request until its reply arrives and retransmits it on a
// timer; Recv filters what arrives down to the replies the core waits for.
type clientConn struct {
	uc   *net.UDPConn
	opts *Options
	base uint64 // added to the core's request IDs on the wire

	mu           sync.Mutex
	out          map[uint64]*outstanding // by the core's request ID
	free         []*outstanding
	err          error         // set by Close
	srtt, rttvar time.Duration // zero until a round trip was measured
	backedOff    time.Duration // kept from the last retransmission until a clean sample (Karn)
	win          burstWindow   // for fragmented requests
	reasmBytes   int
	local        []wire.Frame // frames made here for Recv (refusals, give-ups)
	hasLocal     atomic.Bool

	// Recv's state: a batch of datagrams read at once, and the next one.
	batch      *batchReader
	got, taken int
	bw         *batchWriter
}

// outstanding is a request waiting for its reply.
type outstanding struct {
	cc       *clientConn
	id       uint64     // the core's request ID
	hdr      wire.Frame // header fields as sent, wire request ID, no payload
	dgram    []byte     // the whole datagram, when the request fits one
	msg      []byte     // the payload, when it is fragmented
	count    int        // fragments; 0 when it fits one datagram
	sent     time.Time
	heard    time.Time // last sign of this call from the server
	deadline time.Time // zero: no budget
	rto      time.Duration
	due      time.Time // when the timer is meant to fire
	tries    int
	burstMax int // highest fragment sent before the last in the latest burst
	reply    *reassembly
	active   bool // in cc.out
	refs     int  // writers using dgram/msg outside the lock
	timer    *time.Timer
}

var _ rpcbench.ClientConn = (*clientConn)(nil)

// newClientConn takes over a socket whose handshake measured rtt.
func newClientConn(uc *net.UDPConn, opts *Options, rtt time.Duration) (*clientConn, error) {
	batch, err := newBatchReader(uc, opts.ReadBatch, opts.recvBuffer())
	if err != nil {
		return nil, err
	}
	cc := &clientConn{
		uc: uc, opts: opts,
		// Far from 0 (heartbeats) and from wrapping, unique per socket.
		base: 1<<32 + rand.Uint64N(1<<62),
		out:  map[uint64]*outstanding{},
	}
	cc.batch = batch
	if cc.bw, err = newBatchWriter(uc, true); err != nil {
		return nil, err
	}
	if rtt > 0 {
		cc.sampleLocked(rtt)
	}
	return cc, nil
}

// Send implements rpcbench.ClientConn.
func (cc *clientConn) Send(f *wire.Frame) error {
	switch f.Kind {
	case wire.KindRequest:
		return cc.sendRequest(f)
	case wire.KindCancel:
		cc.mu.Lock()
		if o := cc.out[f.RequestID]; o != nil {
			cc.finishLocked(o)
		}
		cc.mu.Unlock()
		g := *f
		g.RequestID += cc.base
		return cc.writeFrame(&g)
	default: // heartbeats, pongs: request ID 0, as they are
		return cc.writeFrame(f)
	}
}

func (cc *clientConn) sendRequest(f *wire.Frame) error {
	if len(f.Payload) > cc.opts.MaxMessage {
		cc.deliverLocal(f, rpcbench.CodeResourceExhausted, fmt.Sprintf("udp: request of %d bytes is over the transport's %d-byte message limit", len(f.Payload), cc.opts.MaxMessage))
		return nil
	}
	now := time.Now()
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return cc.err
	}
	o := cc.getLocked()
	o.id = f.RequestID
	o.hdr = wire.Frame{Kind: f.Kind, Codec: f.Codec, Compression: f.Compression, CallID: f.CallID,
		RequestID: f.RequestID + cc.base, BudgetMicros: f.BudgetMicros}
	if cc.opts.single(len(f.Payload)) {
		o.count = 0
		o.hdr.Payload = f.Payload
		o.dgram = wire.Append(o.dgram[:0], &o.hdr)
		o.hdr.Payload = nil
	} else {
		o.count = fragmentCount(len(f.Payload), cc.opts.chunk())
		o.msg = append(o.msg[:0], f.Payload...)
	}
	o.sent, o.heard, o.tries, o.reply, o.burstMax = now, now, 1, nil, -1
	o.deadline = time.Time{}
	if f.BudgetMicros > 0 {
		o.deadline = now.Add(time.Duration(f.BudgetMicros) * time.Microsecond)
	}
	o.active = true
	cc.out[o.id] = o
	o.rto = cc.rtoLocked()
	cc.armLocked(o, now)
	o.refs++
	cc.mu.Unlock()

	var err error
	if o.count == 0 {
		err = cc.write(o.dgram)
	} else {
		err = cc.writeFragments(o, nil, true)
	}
	cc.mu.Lock()
	o.refs--
	cc.releaseLocked(o)
	cc.mu.Unlock()
	return err
}

func (cc *clientConn) getLocked() *outstanding {
	if n := len(cc.free); n > 0 {
		o := cc.free[n-1]
		cc.free = cc.free[:n-1]
		return o
	}
	return &outstanding{cc: cc}
}

// releaseLocked recycles a finished request nobody is writing from.
func (cc *clientConn) releaseLocked(o *outstanding) {
	if o.active || o.refs > 0 || cc.err != nil {
		return
	}
	o.reply = nil
	if cap(o.msg) > 64<<10 {
		o.msg = nil
	}
	if len(cc.free) < 1024 {
		cc.free = append(cc.free, o)
	}
}

// finishLocked ends retransmission of o: its reply came, or the caller
// gave up.
func (cc *clientConn) finishLocked(o *outstanding) {
	o.active = false
	delete(cc.out, o.id)
	o.timer.Stop()
	if o.reply != nil {
		cc.reasmBytes -= len(o.reply.buf)
	}
	cc.releaseLocked(o)
}

func (cc *clientConn) rtoLocked() time.Duration {
	return max(cc.estimateLocked(), min(cc.backedOff, cc.opts.RetransmitMax))
}

// estimateLocked is the timeout the measured round trips call for.
func (cc *clientConn) estimateLocked() time.Duration {
	rto := cc.opts.RetransmitInitial
	if cc.srtt != 0 {
		rto = cc.srtt + 4*cc.rttvar
	}
	return min(max(rto, cc.opts.RetransmitMin), cc.opts.RetransmitMax)
}

// sampleLocked folds one round trip into the estimate (RFC 6298).
func (cc *clientConn) sampleLocked(r time.Duration) {
	cc.backedOff = 0
	if cc.srtt == 0 {
		cc.srtt, cc.rttvar = r, r/2
		return
	}
	d := cc.srtt - r
	if d < 0 {
		d = -d
	}
	cc.rttvar = (3*cc.rttvar + d) / 4
	cc.srtt = (7*cc.srtt + r) / 8
}

func (cc *clientConn) armLocked(o *outstanding, now time.Time) {
	d := o.rto
	if !o.deadline.IsZero() && now.Add(d).After(o.deadline) {
		d = max(o.deadline.Sub(now), 0)
	}
	o.due = now.Add(d)
	if o.timer == nil {
		o.timer = time.AfterFunc(d, o.fire)
	} else {
		o.timer.Reset(d)
	}
}

// progressLocked notes that o's transfer moved (fragments or a report
// came): the peer answers, so the next retransmission waits a fresh,
// not backed-off, timeout from now.
func (cc *clientConn) progressLocked(o *outstanding, now time.Time) {
	o.heard = now
	o.rto = cc.estimateLocked()
	cc.armLocked(o, now)
}

// fire is o's retransmission timer.
func (o *outstanding) fire() {
	cc := o.cc
	now := time.Now()
	cc.mu.Lock()
	if !o.active || now.Before(o.due) { // finished, or a stale timer of a recycled request
		cc.mu.Unlock()
		return
	}
	if !o.deadline.IsZero() && !now.Before(o.deadline) {
		// The budget is spent: the core reports deadline exceeded and
		// cancels. Should it not, give up a little later.
		if now.Sub(o.deadline) < cc.opts.RetransmitMax {
			o.due = o.deadline.Add(cc.opts.RetransmitMax)
			o.timer.Reset(o.due.Sub(now))
			cc.mu.Unlock()
			return
		}
		cc.giveUpLocked(o, rpcbench.CodeDeadlineExceeded, fmt.Sprintf("udp: no reply within the request's budget (%d transmissions)", o.tries))
		return
	}
	if now.Sub(o.heard) >= cc.opts.RetryTimeout {
		cc.giveUpLocked(o, rpcbench.CodeUnavailable, fmt.Sprintf("udp: no sign of the server for %v after %d transmissions", cc.opts.RetryTimeout, o.tries))
		return
	}
	o.tries++
	o.rto = min(2*o.rto, cc.opts.RetransmitMax)
	// Round trips of retransmitted calls are ambiguous (Karn), so without
	// this a slow spell would keep new calls on a too-short timeout.
	cc.backedOff = max(cc.backedOff, o.rto)
	cc.armLocked(o, now)
	stats.retransmits.Add(1)
	var nack []byte
	if o.reply != nil {
		nack = o.reply.appendMissing(nil, cc.opts.reportRanges())
	} else if o.count > 0 {
		cc.win.stall() // the burst's last fragment, or the report, was lost
	}
	o.refs++
	cc.mu.Unlock()

	switch {
	case nack != nil:
		p := wire.Frame{Kind: wire.KindPing, RequestID: o.hdr.RequestID, Payload: nack}
		cc.writeFrame(&p)
	case o.count == 0:
		cc.write(o.dgram)
	default:
		cc.writeFragments(o, nil, false) // the last fragment asks for a report
	}
	cc.mu.Lock()
	o.refs--
	cc.releaseLocked(o)
	cc.mu.Unlock()
}

// giveUpLocked fails o's call with a locally made error frame and unlocks.
func (cc *clientConn) giveUpLocked(o *outstanding, code rpcbench.Code, msg string) {
	stats.giveUps.Add(1)
	f := o.hdr
	f.RequestID = o.id
	cc.finishLocked(o)
	cc.mu.Unlock()
	cc.deliverLocal(&f, code, msg)
}

// deliverLocal makes Recv return an error frame for req's call, and wakes
// it from its read.
func (cc *clientConn) deliverLocal(req *wire.Frame, code rpcbench.Code, msg string) {
	f := wire.Frame{Kind: wire.KindError, Codec: req.Codec, CallID: req.CallID, RequestID: req.RequestID,
		Payload: wire.AppendError(nil, uint16(code), msg)}
	cc.mu.Lock()
	cc.local = append(cc.local, f)
	cc.hasLocal.Store(true)
	cc.mu.Unlock()
	cc.uc.SetReadDeadline(aLongTimeAgo)
}

var aLongTimeAgo = time.Unix(1, 0)

func (cc *clientConn) popLocal() (wire.Frame, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.local) == 0 {
		cc.hasLocal.Store(false)
		return wire.Frame{}, false
	}
	f := cc.local[0]
	cc.local = cc.local[1:]
	if len(cc.local) == 0 {
		cc.local = nil
		cc.hasLocal.Store(false)
	}
	return f, true
}

// writeFragments writes o's fragments: the first window and the last
// (all), or the fragments named in the report nack and the last. o must
// be referenced.
func (cc *clientConn) writeFragments(o *outstanding, nack []byte, all bool) error {
	cc.mu.Lock()
	if nack != nil {
		cc.win.report(nack, o.burstMax, cc.opts.FragmentWindow)
	}
	w := cc.win.size(cc.opts.FragmentWindow)
	cc.mu.Unlock()
	highest, err := cc.opts.sendFragments(&o.hdr, o.msg, o.count, nack, all, w, cc.write)
	cc.mu.Lock()
	o.burstMax = highest
	cc.mu.Unlock()
	return err
}

var datagramPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func getDatagram() *[]byte  { return datagramPool.Get().(*[]byte) }
func putDatagram(b *[]byte) { datagramPool.Put(b) }

func (cc *clientConn) writeFrame(f *wire.Frame) error {
	b := getDatagram()
	*b = wire.Append((*b)[:0], f)
	err := cc.write(*b)
	putDatagram(b)
	return err
}

// write sends one datagram, coalesced with concurrent ones.
func (cc *clientConn) write(b []byte) error {
	err := cc.bw.write(b, netip.AddrPort{})
	if err == nil {
		wirestats.Client.Out.Add(uint64(len(b)))
	}
	return err
}

// Recv implements rpcbench.ClientConn.
func (cc *clientConn) Recv() (wire.Frame, error) {
	for {
		if cc.hasLocal.Load() {
			if f, ok := cc.popLocal(); ok {
				return f, nil
			}
		}
		if cc.taken == cc.got {
			n, err := cc.batch.read()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					cc.uc.SetReadDeadline(time.Time{}) // woken by deliverLocal
					continue
				}
				return wire.Frame{}, err
			}
			cc.got, cc.taken = n, 0
		}
		b, _ := cc.batch.datagram(cc.taken)
		cc.taken++
		wirestats.Client.In.Add(uint64(len(b)))
		f, err := wire.ParseDatagram(b, cc.opts.datagramPayload())
		if err != nil {
			stats.badDatagrams.Add(1)
			continue
		}
		if f.RequestID == 0 {
			switch f.Kind {
			case wire.KindPing, wire.KindPong:
				if f.Flags&wire.FlagCookie != 0 {
					cc.echoCookie(&f)
					f.Flags, f.Payload = 0, nil
				}
				return f, nil
			case wire.KindError:
				_, msg, _ := wire.ParseError(f.Payload)
				return wire.Frame{}, fmt.Errorf("udp: the server ended the session: %s", msg)
			}
			continue
		}
		if r, ok := cc.handle(&f); ok {
			return r, nil
		}
	}
}

// echoCookie proves the client's address to the server: it sends back the
// cookie the server gave it, after which the server's replies are no longer
// bounded by the bytes it received (see cookie.go).
func (cc *clientConn) echoCookie(f *wire.Frame) {
	echo := wire.Frame{Kind: wire.KindPing, Flags: wire.FlagCookie, Payload: f.Payload}
	cc.writeFrame(&echo)
}

// handle deals with a frame about one call; it reports whether the frame
// goes up to the core.
func (cc *clientConn) handle(f *wire.Frame) (wire.Frame, bool) {
	id := f.RequestID - cc.base
	switch f.Kind {
	case wire.KindResponse, wire.KindError:
		if f.Flags&wire.FlagFragment != 0 {
			return cc.fragment(f, id)
		}
		cc.mu.Lock()
		o := cc.out[id]
		if o == nil {
			cc.mu.Unlock()
			stats.staleReplies.Add(1)
			return wire.Frame{}, false // late, duplicate or abandoned
		}
		if o.tries == 1 && o.count == 0 { // one datagram each way, sent once: a clean sample
			cc.sampleLocked(time.Since(o.sent))
		}
		cc.finishLocked(o)
		cc.mu.Unlock()
		f.RequestID = id
		return *f, true
	case wire.KindPong:
		cc.mu.Lock()
		o := cc.out[id]
		if o == nil {
			cc.mu.Unlock()
			return wire.Frame{}, false
		}
		now := time.Now()
		o.heard = now
		if len(f.Payload) == 0 || o.count == 0 {
			cc.mu.Unlock() // running: keep probing at the timer's pace
			return wire.Frame{}, false
		}
		cc.progressLocked(o, now) // a report: the request is moving
		o.refs++
		cc.mu.Unlock()
		cc.writeFragments(o, f.Payload, false)
		cc.mu.Lock()
		o.refs--
		cc.releaseLocked(o)
		cc.mu.Unlock()
	}
	return wire.Frame{}, false
}

// fragment adds a reply fragment; the whole reply goes up once complete.
func (cc *clientConn) fragment(f *wire.Frame, id uint64) (wire.Frame, bool) {
	h, data, err := parseFragment(f)
	if err != nil {
		return wire.Frame{}, false
	}
	cc.mu.Lock()
	o := cc.out[id]
	if o == nil {
		cc.mu.Unlock()
		return wire.Frame{}, false
	}
	if o.reply == nil {
		if !admissible(h, cc.opts.MaxMessage, cc.opts.chunk()) || cc.reasmBytes+h.total > cc.opts.ReassemblyBytes {
			cc.mu.Unlock()
			return wire.Frame{}, false
		}
		o.reply = newReassembly(f, h)
		cc.reasmBytes += h.total
	}
	isNew, err := o.reply.add(f, h, data)
	if err != nil {
		cc.mu.Unlock()
		return wire.Frame{}, false
	}
	now := time.Now()
	if isNew {
		cc.progressLocked(o, now)
	}
	if o.reply.complete() {
		r := o.reply.hdr
		r.RequestID, r.Payload = id, o.reply.buf
		cc.finishLocked(o)
		cc.mu.Unlock()
		return r, true
	}
	var nack []byte
	if h.index == h.count-1 && o.reply.reportDue(now.UnixNano()) {
		nack = o.reply.appendMissing(nil, cc.opts.reportRanges())
	}
	cc.mu.Unlock()
	if nack != nil {
		stats.fragmentReports.Add(1)
		p := wire.Frame{Kind: wire.KindPing, RequestID: f.RequestID, Payload: nack}
		cc.writeFrame(&p)
	}
	return wire.Frame{}, false
}

// Close implements rpcbench.ClientConn: retransmission stops and a blocked
// Recv returns an error.
func (cc *clientConn) Close() error {
	cc.mu.Lock()
	if cc.err != nil {
		cc.mu.Unlock()
		return nil
	}
	cc.err = net.ErrClosed
	for _, o := range cc.out {
		o.active = false
		o.timer.Stop()
	}
	cc.out = map[uint64]*outstanding{}
	cc.mu.Unlock()
	return cc.uc.Close()
}

// handshake pings the server until it answers, so that Dial reports a
// server that is not there. It returns the first ping's round trip, or 0
// if that ping went unanswered.
func handshake(ctx context.Context, uc *net.UDPConn, opts *Options) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(opts.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ping := wire.Append(nil, &wire.Frame{Kind: wire.KindPing})
	buf := make([]byte, 64<<10)
	wait := opts.RetransmitInitial
	for tries := 1; ; tries++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		sent := time.Now()
		if _, err := uc.Write(ping); err != nil {
			return 0, err
		}
		wirestats.Client.Out.Add(uint64(len(ping)))
		until := time.Now().Add(wait)
		if until.After(deadline) {
			until = deadline
		}
		uc.SetReadDeadline(until)
		for {
			n, err := uc.Read(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return 0, err
				}
				break
			}
			wirestats.Client.In.Add(uint64(n))
			f, err := wire.ParseDatagram(buf[:n], opts.datagramPayload())
			if err != nil || f.RequestID != 0 {
				continue
			}
			switch f.Kind {
			case wire.KindPong:
				uc.SetReadDeadline(time.Time{})
				if f.Flags&wire.FlagCookie != 0 {
					echo := wire.Append(nil, &wire.Frame{Kind: wire.KindPing, Flags: wire.FlagCookie, Payload: f.Payload})
					if _, err := uc.Write(echo); err != nil {
						return 0, err
					}
					wirestats.Client.Out.Add(uint64(len(echo)))
				}
				if tries > 1 {
					return 0, nil // which ping does this answer?
				}
				return time.Since(sent), nil
			case wire.KindError:
				_, msg, _ := wire.ParseError(f.Payload)
				return 0, fmt.Errorf("udp: server refused the session: %s", msg)
			}
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("udp: no answer from %v within %v", uc.RemoteAddr(), deadline.Sub(start).Round(time.Millisecond))
		}
		wait = min(2*wait, opts.RetransmitMax)
	}
}
