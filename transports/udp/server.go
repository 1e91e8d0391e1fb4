package udp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench"
	"rpcbench/wire"
	"rpcbench/wirestats"
)

// maxReassembliesPerAddr caps the partial messages one client address may
// have at a time.
const maxReassembliesPerAddr = 64

// cacheLimits are the duplicate-request caches' shared bounds.
type cacheLimits struct {
	ttl      int64 // ns
	entries  int
	maxBytes int64
	bytes    atomic.Int64
}

// dispatcher is the server side both engines share: it turns datagrams from
// client addresses into sessions of the core, with duplicate suppression,
// reassembly and fragmentation. An engine feeds it datagrams (for one
// address, from one goroutine at a time) and gives it a way to write.
type dispatcher struct {
	opts  *Options
	write func(b []byte, to netip.AddrPort, route any) error
	// serialWrites: writes by one route must not overlap (gnet's UDP
	// conns share a sockaddr buffer between their sendto calls).
	serialWrites bool
	onEmpty      func() // closes the socket once closed and without sessions

	mu       sync.Mutex
	handler  rpcbench.ConnHandler
	conns    map[netip.AddrPort]*pconn
	closed   bool // no new sessions
	emptied  bool
	reasmLen atomic.Int64 // bytes held by partial messages
	limits   cacheLimits
	cookies  *cookieJar
}

// write sends b to an address by the route the engine gave with the
// address's datagrams (the gnet engine: the gnet.Conn).
func newDispatcher(opts *Options, write func(b []byte, to netip.AddrPort, route any) error, onEmpty func()) *dispatcher {
	d := &dispatcher{opts: opts, write: write, onEmpty: onEmpty, conns: map[netip.AddrPort]*pconn{}, cookies: newCookieJar()}
	d.limits = cacheLimits{ttl: int64(opts.DedupTTL), entries: opts.DedupEntries, maxBytes: int64(opts.DedupBytes)}
	return d
}

// setHandler records the core; it fails if Serve was called before.
func (d *dispatcher) setHandler(h rpcbench.ConnHandler) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handler != nil {
		return fmt.Errorf("udp: Serve called twice")
	}
	d.handler = h
	return nil
}

// close stops making sessions; the socket closes with the last session.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	empty := d.emptyLocked()
	d.mu.Unlock()
	if empty {
		d.onEmpty()
	}
}

// emptyLocked reports, once, that the dispatcher is closed and has no
// sessions left.
func (d *dispatcher) emptyLocked() bool {
	if !d.closed || len(d.conns) > 0 || d.emptied {
		return false
	}
	d.emptied = true
	return true
}

func (d *dispatcher) send(b []byte, to netip.AddrPort, route any) error {
	err := d.write(b, to, route)
	if err == nil {
		wirestats.Server.Out.Add(uint64(len(b)))
	}
	return err
}

func (d *dispatcher) sendFrame(f *wire.Frame, to netip.AddrPort, route any) error {
	b := getDatagram()
	*b = wire.Append((*b)[:0], f)
	err := d.send(*b, to, route)
	putDatagram(b)
	return err
}

// sendError answers a datagram of in bytes from an address without a
// session, if the answer is within the amplification bound.
func (d *dispatcher) sendError(id uint64, code rpcbench.Code, msg string, in int, to netip.AddrPort, route any) {
	e := wire.Frame{Kind: wire.KindError, RequestID: id, Payload: wire.AppendError(nil, uint16(code), msg)}
	if wire.HeaderLen+len(e.Payload) > amplification*in {
		stats.amplificationHeld.Add(1)
		return
	}
	d.sendFrame(&e, to, route)
}

// datagram handles one datagram from addr, which arrived by route. b is
// valid only during the call; f is the caller's scratch frame (the session
// would make a local one escape). Datagrams from one address must come one
// at a time.
func (d *dispatcher) datagram(b []byte, from netip.AddrPort, route any, f *wire.Frame) {
	wirestats.Server.In.Add(uint64(len(b)))
	var err error
	if *f, err = wire.ParseDatagram(b, d.opts.datagramPayload()); err != nil {
		stats.badDatagrams.Add(1)
		return // garbage: discard, keep serving
	}
	switch f.Kind {
	case wire.KindRequest, wire.KindCancel, wire.KindPing, wire.KindPong:
	default:
		return // replies are not for a server
	}
	pc := d.conn(f, len(b), from, route)
	if pc == nil {
		return
	}
	pc.budget.received(len(b))
	pc.lastSeen.Store(time.Now().UnixNano())
	switch f.Kind {
	case wire.KindRequest:
		pc.request(f)
	case wire.KindCancel:
		pc.cancel(f)
	case wire.KindPing:
		switch {
		case f.Flags&wire.FlagCookie != 0:
			pc.verify(f.Payload)
		case f.RequestID != 0:
			pc.resendMissing(f)
		default:
			pc.frame(f)
		}
	case wire.KindPong:
		pc.frame(f)
	}
}

// conn returns addr's session, making one if the listener is open.
func (d *dispatcher) conn(f *wire.Frame, in int, from netip.AddrPort, route any) *pconn {
	d.mu.Lock()
	pc := d.conns[from]
	if pc != nil {
		d.mu.Unlock()
		return pc
	}
	if d.closed || d.handler == nil || len(d.conns) >= d.opts.MaxSessions {
		code, msg := rpcbench.CodeUnavailable, "udp: server is shutting down"
		if !d.closed && d.handler != nil {
			code, msg = rpcbench.CodeResourceExhausted, fmt.Sprintf("udp: server has %d clients, its limit", len(d.conns))
		}
		d.mu.Unlock()
		if f.Kind == wire.KindRequest || f.Kind == wire.KindPing && f.RequestID == 0 {
			d.sendError(f.RequestID, code, msg, in, from, route)
		}
		return nil
	}
	pc = &pconn{d: d, addr: from, route: route, uaddr: net.UDPAddrFromAddrPort(from), reasm: map[uint64]*reassembly{}, inFrame: true}
	pc.cache.init()
	pc.lastSeen.Store(time.Now().UnixNano())
	pc.seq.Lock()
	d.conns[from] = pc
	h := d.handler
	d.mu.Unlock()
	pc.sess = h.Connect(pc) // may Close pc at once
	pc.leave()
	pc.seq.Unlock()
	return pc
}

// sweep expires cached replies and partial messages and reaps idle
// sessions.
func (d *dispatcher) sweep(now time.Time) {
	d.mu.Lock()
	conns := make([]*pconn, 0, len(d.conns))
	for _, pc := range d.conns {
		conns = append(conns, pc)
	}
	d.mu.Unlock()
	ns := now.UnixNano()
	for _, pc := range conns {
		pc.mu.Lock()
		pc.cache.expire(ns, &d.limits)
		for id, r := range pc.reasm {
			if r.progress <= ns-int64(d.opts.ReassemblyTimeout) {
				pc.dropReassemblyLocked(id, r)
			}
		}
		idle := pc.cache.running == 0 && len(pc.reasm) == 0 && pc.lastSeen.Load() <= ns-int64(d.opts.IdleTimeout)
		pc.mu.Unlock()
		if idle {
			pc.Close()
		}
	}
}

// sweepEvery is the janitor's period.
func (d *dispatcher) sweepEvery() time.Duration {
	return min(d.opts.ReassemblyTimeout, d.opts.DedupTTL, d.opts.IdleTimeout, 4*time.Second) / 4
}

// closeAll closes every session (the socket has gone).
func (d *dispatcher) closeAll() {
	d.mu.Lock()
	conns := make([]*pconn, 0, len(d.conns))
	for _, pc := range d.conns {
		conns = append(conns, pc)
	}
	d.mu.Unlock()
	for _, pc := range conns {
		pc.Close()
	}
}

// pconn is one client address's pseudo-connection: the core's ServerConn
// and Session for it, its duplicate-request cache and its partial messages.
type pconn struct {
	d        *dispatcher
	addr     netip.AddrPort
	route    any
	uaddr    *net.UDPAddr
	sess     rpcbench.Session
	lastSeen atomic.Int64
	seq      sync.Mutex // one call into the session at a time
	wmu      sync.Mutex // writes, if the engine wants them one at a time

	mu                    sync.Mutex
	inFrame, closed, disc bool
	cache                 dedupCache
	reasm                 map[uint64]*reassembly
	win                   burstWindow // for fragmented replies
	budget                addressBudget
}

var _ rpcbench.ServerConn = (*pconn)(nil)

// frame hands f to the session; Disconnect follows the last Frame, once.
func (pc *pconn) frame(f *wire.Frame) {
	pc.seq.Lock()
	defer pc.seq.Unlock()
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return
	}
	pc.inFrame = true
	pc.mu.Unlock()
	pc.sess.Frame(f)
	pc.leave()
}

// leave ends a call into the session (Connect or Frame), during which a
// Close only marks pc closed, and disconnects if one came.
func (pc *pconn) leave() {
	pc.mu.Lock()
	pc.inFrame = false
	disc := pc.closed && !pc.disc
	pc.disc = pc.disc || disc
	pc.mu.Unlock()
	if disc {
		pc.sess.Disconnect(net.ErrClosed)
	}
}

func (pc *pconn) request(f *wire.Frame) {
	frag := f.Flags&wire.FlagFragment != 0
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return
	}
	if e := pc.cache.get(f.RequestID); e != nil {
		stats.duplicateRequests.Add(1)
		if frag && f.Flags&wire.FlagLastFragment == 0 {
			pc.mu.Unlock() // only a last fragment asks for an answer
			return
		}
		switch e.state {
		case running:
			pc.mu.Unlock()
			ack := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID}
			pc.sendFrame(&ack)
		case answered:
			e.refs++
			pc.mu.Unlock()
			pc.writeReply(e, nil)
			pc.mu.Lock()
			e.refs--
			e.put()
			pc.mu.Unlock()
		default:
			pc.mu.Unlock()
		}
		return
	}
	if frag {
		whole, nack := pc.reassembleLocked(f)
		if whole == nil {
			pc.mu.Unlock()
			if nack != nil {
				stats.fragmentReports.Add(1)
				p := wire.Frame{Kind: wire.KindPong, RequestID: f.RequestID, Payload: nack}
				pc.sendFrame(&p)
			}
			return
		}
		f = whole
	}
	pc.cache.start(f.RequestID)
	pc.mu.Unlock()
	pc.frame(f)
}

// reassembleLocked adds a request fragment; it returns the whole request
// once complete, or a report of missing fragments to send.
func (pc *pconn) reassembleLocked(f *wire.Frame) (*wire.Frame, []byte) {
	h, data, err := parseFragment(f)
	if err != nil {
		return nil, nil
	}
	d := pc.d
	r := pc.reasm[f.RequestID]
	if r == nil {
		if !admissible(h, d.opts.MaxMessage, d.opts.chunk()) || len(pc.reasm) >= maxReassembliesPerAddr {
			return nil, nil
		}
		if d.reasmLen.Add(int64(h.total)) > int64(d.opts.ReassemblyBytes) {
			d.reasmLen.Add(-int64(h.total))
			return nil, nil
		}
		r = newReassembly(f, h)
		pc.reasm[f.RequestID] = r
	}
	isNew, err := r.add(f, h, data)
	if err != nil {
		return nil, nil
	}
	now := time.Now().UnixNano()
	if isNew {
		r.progress = now
	}
	if r.complete() {
		pc.dropReassemblyLocked(f.RequestID, r)
		whole := r.hdr
		whole.Payload = r.buf
		return &whole, nil
	}
	if h.index == h.count-1 && r.reportDue(now) {
		return nil, r.appendMissing(nil, d.opts.reportRanges())
	}
	return nil, nil
}

func (pc *pconn) dropReassemblyLocked(id uint64, r *reassembly) {
	delete(pc.reasm, id)
	pc.d.reasmLen.Add(-int64(len(r.buf)))
}

// cancel marks the call cancelled (also before its request arrives, should
// the cancel overtake it) and tells the core.
func (pc *pconn) cancel(f *wire.Frame) {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return
	}
	if r := pc.reasm[f.RequestID]; r != nil {
		pc.dropReassemblyLocked(f.RequestID, r)
	}
	switch e := pc.cache.get(f.RequestID); {
	case e == nil:
		pc.cache.settle(newEntry(f.RequestID, cancelled), cancelled, time.Now().UnixNano(), &pc.d.limits)
	case e.state == running:
		pc.cache.settle(e, cancelled, time.Now().UnixNano(), &pc.d.limits)
	}
	pc.mu.Unlock()
	pc.frame(f)
}

// resendMissing answers a client's report of missing reply fragments.
func (pc *pconn) resendMissing(f *wire.Frame) {
	pc.mu.Lock()
	e := pc.cache.get(f.RequestID)
	if e == nil || e.state != answered || e.count == 0 {
		pc.mu.Unlock()
		return
	}
	e.refs++
	pc.mu.Unlock()
	pc.writeReply(e, f.Payload)
	pc.mu.Lock()
	e.refs--
	e.put()
	pc.mu.Unlock()
}

// writeReply writes e's reply: the whole of it (nack nil), or the
// fragments a report names and the last. e must be referenced.
func (pc *pconn) writeReply(e *dedupEntry, nack []byte) error {
	if e.count == 0 {
		return pc.send(e.reply)
	}
	limit := pc.d.opts.FragmentWindow
	pc.mu.Lock()
	if nack != nil {
		pc.win.report(nack, e.burstMax, limit)
	}
	w := pc.win.size(limit)
	pc.mu.Unlock()
	highest, err := pc.d.opts.sendFragments(&e.hdr, e.reply, e.count, nack, nack == nil, w, pc.send)
	pc.mu.Lock()
	e.burstMax = highest
	pc.mu.Unlock()
	return err
}

// Send implements rpcbench.ServerConn. A reply is kept in the duplicate
// cache before it is written.
func (pc *pconn) Send(f *wire.Frame) error {
	if f.Kind != wire.KindResponse && f.Kind != wire.KindError {
		pc.mu.Lock()
		closed := pc.closed
		pc.mu.Unlock()
		if closed {
			return net.ErrClosed
		}
		if f.Kind == wire.KindPong && f.RequestID == 0 && !pc.budget.verified.Load() {
			return pc.sendCookie() // answers the ping, and hands out the cookie
		}
		return pc.sendFrame(f)
	}
	opts := pc.d.opts
	g := *f
	if len(g.Payload) > opts.MaxMessage {
		g = wire.Frame{Kind: wire.KindError, Codec: f.Codec, CallID: f.CallID, RequestID: f.RequestID,
			Payload: wire.AppendError(nil, uint16(rpcbench.CodeResourceExhausted),
				fmt.Sprintf("udp: reply of %d bytes is over the transport's %d-byte message limit", len(f.Payload), opts.MaxMessage))}
	}
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return net.ErrClosed
	}
	e := pc.cache.get(g.RequestID)
	if e == nil || e.state != running {
		pc.mu.Unlock()
		return nil // cancelled (or unknown): the caller is not waiting
	}
	if opts.single(len(g.Payload)) {
		e.count = 0
		e.reply = wire.Append(e.reply[:0], &g)
	} else {
		e.count = fragmentCount(len(g.Payload), opts.chunk())
		e.reply = append(e.reply[:0], g.Payload...)
		e.hdr = g
		e.hdr.Payload = nil
	}
	e.refs++
	pc.cache.settle(e, answered, time.Now().UnixNano(), &pc.d.limits)
	pc.mu.Unlock()
	err := pc.writeReply(e, nil)
	pc.mu.Lock()
	e.refs--
	e.put()
	pc.mu.Unlock()
	return err
}

// Close implements rpcbench.ServerConn: the session ends, the client is
// told, and the socket closes if this was the last session of a closed
// listener.
func (pc *pconn) Close() error {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return nil
	}
	pc.closed = true
	disc := !pc.inFrame
	pc.disc = disc
	pc.cache.clear(&pc.d.limits)
	for id, r := range pc.reasm {
		pc.dropReassemblyLocked(id, r)
	}
	pc.mu.Unlock()

	d := pc.d
	d.mu.Lock()
	if d.conns[pc.addr] == pc {
		delete(d.conns, pc.addr)
	}
	empty := d.emptyLocked()
	d.mu.Unlock()
	bye := wire.Frame{Kind: wire.KindError, Payload: wire.AppendError(nil, uint16(rpcbench.CodeUnavailable), "udp: session closed by the server")}
	pc.sendFrame(&bye)
	if disc {
		pc.sess.Disconnect(net.ErrClosed)
	}
	if empty {
		d.onEmpty()
	}
	return nil
}

// errUnverified: the amplification bound held a datagram back.
var errUnverified = errors.New("udp: address not verified; datagram over the amplification bound")

func (pc *pconn) send(b []byte) error {
	if !pc.budget.spend(len(b)) {
		stats.amplificationHeld.Add(1)
		if pc.budget.cookieDue.CompareAndSwap(true, false) {
			pc.sendCookie()
		}
		return errUnverified
	}
	return pc.write(b)
}

func (pc *pconn) write(b []byte) error {
	if pc.d.serialWrites {
		pc.wmu.Lock()
		defer pc.wmu.Unlock()
	}
	return pc.d.send(b, pc.addr, pc.route)
}

func (pc *pconn) sendFrame(f *wire.Frame) error {
	b := getDatagram()
	*b = wire.Append((*b)[:0], f)
	err := pc.send(*b)
	putDatagram(b)
	return err
}

// sendCookie sends the address's cookie in a pong, within the bound.
func (pc *pconn) sendCookie() error {
	b := getDatagram()
	var c [cookieLen]byte
	f := cookieFrame(pc.d.cookies, pc.addr, c[:])
	*b = wire.Append((*b)[:0], &f)
	var err error = errUnverified
	if pc.budget.spend(len(*b)) {
		err = pc.write(*b)
	}
	putDatagram(b)
	return err
}

// verify lifts the bound once the client echoes a valid cookie.
func (pc *pconn) verify(cookie []byte) {
	if !pc.budget.verified.Load() && pc.d.cookies.valid(cookie, pc.addr, time.Now()) {
		pc.budget.verified.Store(true)
		stats.verifiedAddrs.Add(1)
	}
}

// RemoteAddr implements rpcbench.ServerConn.
func (pc *pconn) RemoteAddr() net.Addr { return pc.uaddr }
