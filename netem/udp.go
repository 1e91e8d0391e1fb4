package netem

import (
	"net"
	"sync"
	"time"
)

// datagramSize is the largest datagram a UDP relay carries.
const datagramSize = 64 << 10

// flowIdle is how long a client's mapping lives without traffic.
const flowIdle = 2 * time.Minute

// UDPRelay relays datagrams through a Profile like a NAT: one socket
// faces the clients, and each client address gets its own upstream socket
// to the server, so the server sees one peer per client. Each direction
// has one bottleneck and one path shared by every client.
type UDPRelay struct {
	cfg      Config
	pc       *net.UDPConn
	target   *net.UDPAddr
	up, down *bottleneck
	// upPath is used only by the client-facing reader; downPath by the
	// upstream readers, under downMu.
	upPath, downPath *path
	downMu           sync.Mutex
	upSched, dnSched *schedule
	st               counters
	mu               sync.Mutex
	flows            map[string]*udpFlow
	closed           bool
	wg               sync.WaitGroup
}

// udpFlow is one client's mapping.
type udpFlow struct {
	client   *net.UDPAddr
	upstream *net.UDPConn
	last     time.Time // of the latest datagram from the client; under UDPRelay.mu
}

// ListenUDP starts a UDP relay.
func ListenUDP(c Config) (*UDPRelay, error) {
	c.fill()
	target, err := net.ResolveUDPAddr("udp", c.Target)
	if err != nil {
		return nil, err
	}
	la, err := net.ResolveUDPAddr("udp", c.Listen)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, err
	}
	setBuffers(pc)
	r := &UDPRelay{cfg: c, pc: pc, target: target, up: newBottleneck(c.Profile.Up), down: newBottleneck(c.Profile.Down),
		upPath: newPath(c.Profile.Up, seedFor(c.Seed, 0)), downPath: newPath(c.Profile.Down, seedFor(c.Seed, 1)),
		flows: map[string]*udpFlow{}}
	r.upSched = newSchedule(func(d *delivery) {
		if _, err := d.to.(*udpFlow).upstream.Write(d.b); err == nil {
			r.st.delivered(len(d.b))
		}
	})
	r.dnSched = newSchedule(func(d *delivery) {
		if _, err := r.pc.WriteToUDP(d.b, d.to.(*udpFlow).client); err == nil {
			r.st.delivered(len(d.b))
		}
	})
	r.wg.Go(r.readClients)
	return r, nil
}

// setBuffers asks for socket buffers deep enough that the kernel does not
// drop what the model would not (the system may cap them lower).
func setBuffers(c *net.UDPConn) {
	c.SetReadBuffer(4 << 20)
	c.SetWriteBuffer(4 << 20)
}

// Addr implements Relay.
func (r *UDPRelay) Addr() string { return r.pc.LocalAddr().String() }

func (r *UDPRelay) readClients() {
	buf := make([]byte, datagramSize)
	var fates []time.Time
	for {
		n, from, err := r.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		f := r.flow(from)
		if f == nil {
			continue
		}
		fates = r.forward(r.up, r.upPath, r.upSched, buf[:n], f, fates[:0])
	}
}

// forward passes one datagram through a direction's model.
func (r *UDPRelay) forward(b *bottleneck, p *path, s *schedule, data []byte, to *udpFlow, fates []time.Time) []time.Time {
	now := time.Now()
	if b.wait(now, len(data)) > 0 {
		r.st.queueDrops.Add(1)
		return fates
	}
	sent := b.send(now, len(data))
	fates = p.datagram(sent, fates)
	switch len(fates) {
	case 0:
		r.st.dropped.Add(1)
		return fates
	case 2:
		r.st.duplicated.Add(1)
	}
	if fates[0].Equal(sent) && p.l.Delay > 0 {
		r.st.reordered.Add(1)
	}
	for _, at := range fates {
		s.push(at, append([]byte(nil), data...), to)
	}
	return fates
}

// flow returns from's mapping, opening its upstream socket on first use.
func (r *UDPRelay) flow(from *net.UDPAddr) *udpFlow {
	key := from.String()
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	if f := r.flows[key]; f != nil {
		f.last = now
		return f
	}
	up, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		return nil
	}
	setBuffers(up)
	f := &udpFlow{client: from, upstream: up, last: now}
	r.flows[key] = f
	r.wg.Go(func() { r.readUpstream(key, f) })
	return f
}

// readUpstream carries the server's replies to one client until the
// mapping has been idle for flowIdle or the relay closes.
func (r *UDPRelay) readUpstream(key string, f *udpFlow) {
	buf := make([]byte, datagramSize)
	var fates []time.Time
	for {
		f.upstream.SetReadDeadline(time.Now().Add(flowIdle))
		n, err := f.upstream.Read(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				r.mu.Lock()
				idle := time.Since(f.last) >= flowIdle
				if idle {
					delete(r.flows, key)
				}
				r.mu.Unlock()
				if !idle {
					continue
				}
			}
			f.upstream.Close()
			return
		}
		r.downMu.Lock()
		fates = r.forward(r.down, r.downPath, r.dnSched, buf[:n], f, fates[:0])
		r.downMu.Unlock()
	}
}

// Stats implements Relay.
func (r *UDPRelay) Stats() Stats { return r.st.stats(&r.upSched.late, &r.dnSched.late) }

// Close implements Relay.
func (r *UDPRelay) Close() error {
	r.mu.Lock()
	r.closed = true
	for _, f := range r.flows {
		f.upstream.Close()
	}
	r.mu.Unlock()
	err := r.pc.Close()
	r.wg.Wait()
	r.upSched.close()
	r.dnSched.close()
	return err
}
