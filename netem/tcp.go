package netem

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is the most a TCP relay reads, and so delivers, at once.
const chunkSize = 64 << 10

// TCPRelay relays TCP connections through a Profile: per direction, a
// bottleneck shared by the relay's connections and, per connection, the
// delay, jitter and loss-recovery model, delivered in order.
type TCPRelay struct {
	cfg      Config
	ln       net.Listener
	up, down *bottleneck
	st       counters
	flows    atomic.Uint64
	mu       sync.Mutex
	conns    map[*tcpFlow]struct{}
	closed   bool
	quit     chan struct{} // closed by Close
	wg       sync.WaitGroup
	// retired keeps the lateness of closed connections' schedulers.
	retired lateness
}

// ListenTCP starts a TCP relay.
func ListenTCP(c Config) (*TCPRelay, error) {
	c.fill()
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, err
	}
	r := &TCPRelay{cfg: c, ln: ln, up: newBottleneck(c.Profile.Up), down: newBottleneck(c.Profile.Down), conns: map[*tcpFlow]struct{}{}, quit: make(chan struct{})}
	r.wg.Go(r.accept)
	return r, nil
}

// Addr implements Relay.
func (r *TCPRelay) Addr() string { return r.ln.Addr().String() }

func (r *TCPRelay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Go(func() { r.serve(c.(*net.TCPConn)) })
	}
}

// tcpFlow is one relayed connection: the client's side and the server's,
// and a direction each way.
type tcpFlow struct {
	client, server *net.TCPConn
	dirs           [2]*tcpDirection
}

// tcpDirection carries one direction of a connection.
type tcpDirection struct {
	src, dst *net.TCPConn
	b        *bottleneck
	p        *path
	sched    *schedule
	done     chan struct{} // closed when the half-close has been delivered
}

func (r *TCPRelay) serve(client *net.TCPConn) {
	d, err := net.DialTimeout("tcp", r.cfg.Target, 10*time.Second)
	if err != nil {
		client.SetLinger(0)
		client.Close()
		return
	}
	server := d.(*net.TCPConn)
	n := r.flows.Add(1)
	f := &tcpFlow{client: client, server: server, dirs: [2]*tcpDirection{
		r.direction(client, server, r.up, newPath(r.cfg.Profile.Up, seedFor(r.cfg.Seed, 2*n))),
		r.direction(server, client, r.down, newPath(r.cfg.Profile.Down, seedFor(r.cfg.Seed, 2*n+1))),
	}}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		f.close()
		return
	}
	r.conns[f] = struct{}{}
	r.mu.Unlock()
	var pumps sync.WaitGroup
	for _, dir := range f.dirs {
		pumps.Go(func() {
			r.pump(dir)
			// Either direction ending for good ends the connection.
			client.Close()
			server.Close()
		})
	}
	pumps.Wait()
	f.close()
	r.mu.Lock()
	for _, d := range f.dirs {
		r.retired.merge(&d.sched.late)
	}
	delete(r.conns, f)
	r.mu.Unlock()
}

func (r *TCPRelay) direction(src, dst *net.TCPConn, b *bottleneck, p *path) *tcpDirection {
	d := &tcpDirection{src: src, dst: dst, b: b, p: p, done: make(chan struct{})}
	d.sched = newSchedule(func(dl *delivery) {
		if _, ok := dl.to.(eof); ok {
			dst.CloseWrite()
			close(d.done)
			return
		}
		if _, err := dst.Write(dl.b); err != nil {
			src.Close() // the other side is gone: stop reading this one
			return
		}
		r.st.delivered(len(dl.b))
	})
	return d
}

// close stops the flow's schedulers and closes both sides.
func (f *tcpFlow) close() {
	f.client.Close()
	f.server.Close()
	for _, d := range f.dirs {
		d.sched.close()
	}
}

// eof marks the end of a direction's stream in its schedule.
type eof struct{}

// pump reads a direction's source and schedules each chunk: it waits for
// room in the bottleneck's queue (TCP's window closing, not a drop), then
// the chunk is serialized, propagated and delivered in order. It returns
// when the source fails, or once its half-close has been delivered.
func (r *TCPRelay) pump(d *tcpDirection) {
	buf := make([]byte, chunkSize)
	for {
		n, err := d.src.Read(buf)
		if n > 0 {
			now := time.Now()
			if w := d.b.wait(now, n); w > 0 {
				time.Sleep(w)
				now = time.Now()
			}
			at, lost := d.p.chunk(d.b.send(now, n), n)
			if lost {
				r.st.recovered.Add(1)
			}
			d.sched.push(at, append([]byte(nil), buf[:n]...), nil)
		}
		if errors.Is(err, io.EOF) {
			d.sched.push(d.p.inOrder(time.Now(), 0), nil, eof{})
			select {
			case <-d.done:
				// Wait for the other direction to finish too.
				return
			case <-r.quit:
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// Reset drops every current connection with a TCP reset on both sides,
// as a broken path or a middlebox would.
func (r *TCPRelay) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for f := range r.conns {
		f.client.SetLinger(0)
		f.server.SetLinger(0)
		f.client.Close()
		f.server.Close()
	}
}

// Stats implements Relay.
func (r *TCPRelay) Stats() Stats {
	lates := []*lateness{&r.retired}
	r.mu.Lock()
	for f := range r.conns {
		for _, d := range f.dirs {
			lates = append(lates, &d.sched.late)
		}
	}
	r.mu.Unlock()
	return r.st.stats(lates...)
}

// Close implements Relay.
func (r *TCPRelay) Close() error {
	err := r.ln.Close()
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.quit)
	}
	for f := range r.conns {
		f.client.Close()
		f.server.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}
