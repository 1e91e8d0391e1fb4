package udp_test

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// impairment says what a lossyRelay does to each datagram, either way.
type impairment struct {
	Loss, Dup, Reorder float64       // probabilities
	MaxDelay           time.Duration // a reordered datagram is held up to this long
}

// lossyRelay stands between clients and a server and loses, duplicates and
// reorders datagrams in user space (this kernel has no netem). Each client
// address gets its own upstream socket, so the server sees distinct
// clients.
type lossyRelay struct {
	front  *net.UDPConn
	server *net.UDPAddr
	imp    impairment

	mu        sync.Mutex
	rng       *rand.Rand
	upstreams map[netip.AddrPort]*net.UDPConn
	closed    bool
	wg        sync.WaitGroup
	timers    sync.WaitGroup

	Forwarded, Dropped, Duplicated, Delayed atomic.Int64
}

func newLossyRelay(t *testing.T, server string, imp impairment, seed uint64) *lossyRelay {
	t.Helper()
	sa, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	front.SetReadBuffer(4 << 20)
	r := &lossyRelay{front: front, server: sa, imp: imp, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		upstreams: map[netip.AddrPort]*net.UDPConn{}}
	r.wg.Add(1)
	go r.fromClients()
	t.Cleanup(r.Close)
	return r
}

func (r *lossyRelay) Addr() string { return r.front.LocalAddr().String() }

func (r *lossyRelay) fromClients() {
	defer r.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.front.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		up := r.upstream(from)
		if up == nil {
			return
		}
		r.impair(buf[:n], func(b []byte) { up.Write(b) })
	}
}

func (r *lossyRelay) upstream(client netip.AddrPort) *net.UDPConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	if up := r.upstreams[client]; up != nil {
		return up
	}
	up, err := net.DialUDP("udp", nil, r.server)
	if err != nil {
		return nil
	}
	up.SetReadBuffer(4 << 20)
	r.upstreams[client] = up
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // ICMP from a server that has gone
			}
			r.impair(buf[:n], func(b []byte) { r.front.WriteToUDPAddrPort(b, client) })
		}
	}()
	return up
}

// impair sends b through send (now, later, twice or never).
func (r *lossyRelay) impair(b []byte, send func([]byte)) {
	r.mu.Lock()
	lose, dup, delay := r.rng.Float64() < r.imp.Loss, r.rng.Float64() < r.imp.Dup, time.Duration(0)
	if r.imp.MaxDelay > 0 && r.rng.Float64() < r.imp.Reorder {
		delay = time.Duration(r.rng.Int64N(int64(r.imp.MaxDelay)))
	}
	closed := r.closed
	if !closed && !lose && delay > 0 {
		r.timers.Add(1)
	}
	r.mu.Unlock()
	switch {
	case closed:
		return
	case lose:
		r.Dropped.Add(1)
		return
	}
	r.Forwarded.Add(1)
	if dup {
		r.Duplicated.Add(1)
		send(b)
	}
	if delay == 0 {
		send(b)
		return
	}
	r.Delayed.Add(1)
	c := append([]byte(nil), b...)
	time.AfterFunc(delay, func() {
		defer r.timers.Done()
		send(c)
	})
}

// Close stops relaying; it waits for its goroutines and held datagrams.
func (r *lossyRelay) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.timers.Wait()
	r.front.Close()
	r.mu.Lock()
	for _, up := range r.upstreams {
		up.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// setLoss changes the loss probability from now on.
func (r *lossyRelay) setLoss(p float64) {
	r.mu.Lock()
	r.imp.Loss = p
	r.mu.Unlock()
}

// setImpairment changes what happens to datagrams from now on.
func (r *lossyRelay) setImpairment(imp impairment) {
	r.mu.Lock()
	r.imp = imp
	r.mu.Unlock()
}
