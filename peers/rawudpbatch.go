package peers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"rpcbench/target"
)

// raw-udp-batched: the design of rpcbench's UDP transport with no RPC
// layer. One connected socket per cell connection carries every caller's
// datagrams (8-byte id: caller index << 32 | sequence, then the payload);
// the first caller to find the socket idle writes at once and then sends
// what others queued meanwhile in sendmmsg(2) batches; one reader takes
// replies in recvmmsg(2) batches and routes them by id. The server reads a
// batch and echoes it in one sendmmsg(2). Batch I/O is golang.org/x/net/ipv4.
const (
	// udpBatch is how many datagrams one recvmmsg or sendmmsg moves at most
	// (transports/udp's default ReadBatch).
	udpBatch = 32
	// udpSocketBuffer is the SO_RCVBUF/SO_SNDBUF asked for
	// (transports/udp's default SocketBuffer).
	udpSocketBuffer = 4 << 20
	// udpReapEvery: a call is failed as lost when its datagram has been in
	// flight for udpTimeout/udpReapEvery consecutive ticks of this period.
	udpReapEvery = udpTimeout / 4
)

func init() {
	add("raw-udp-batched", target.Peer{
		Network:   "udp",
		Serve:     serveRawUDPBatched,
		NewTarget: newRawUDPBatchedTarget,
		Settings: func() map[string]string {
			return rawSettings("connections", "the cell's connections dimension, one connected UDP socket each shared by its callers (default 1)",
				"multiplexing", fmt.Sprintf("pipelined: one datagram in flight per caller; the first caller to find the socket idle writes its datagram at once (write(2)), then what others queued meanwhile in sendmmsg(2) batches of up to %d; one reader per socket takes up to %d replies per recvmmsg(2) and routes them by id", udpBatch, udpBatch),
				"framing", "8-byte id (caller index << 32 | sequence) + payload, one datagram per call",
				"server", fmt.Sprintf("one socket, one goroutine: recvmmsg(2) of up to %d datagrams, all echoed in sendmmsg(2)", udpBatch),
				"batch_io", "golang.org/x/net/ipv4 ReadBatch/WriteBatch "+moduleVersion("golang.org/x/net")+" (a read allocates each datagram's source address)",
				"retransmission", fmt.Sprintf("none: a lost datagram fails the call after %v to %v", udpTimeout, udpTimeout+udpReapEvery),
				"max_payload", fmt.Sprint(udpMaxPayload), "buffers", fmt.Sprintf("SO_RCVBUF/SO_SNDBUF %d MiB asked for on both sides", udpSocketBuffer>>20))
		},
	})
}

func serveRawUDPBatched(addr string) (string, func() error, error) {
	uc, err := net.ListenUDP("udp", mustUDPAddr(addr))
	if err != nil {
		return "", nil, err
	}
	uc.SetReadBuffer(udpSocketBuffer)
	uc.SetWriteBuffer(udpSocketBuffer)
	var wg sync.WaitGroup
	wg.Go(func() { echoBatches(ipv4.NewPacketConn(uc)) })
	return uc.LocalAddr().String(), func() error {
		err := uc.Close()
		wg.Wait()
		return err
	}, nil
}

// datagramBatch is the messages of one ReadBatch with their buffers.
type datagramBatch struct {
	ms   []ipv4.Message
	bufs [][]byte
}

func newDatagramBatch() *datagramBatch {
	b := &datagramBatch{ms: make([]ipv4.Message, udpBatch), bufs: make([][]byte, udpBatch)}
	for i := range b.ms {
		b.bufs[i] = make([]byte, udpHeaderLen+udpMaxPayload+1)
		b.ms[i].Buffers = [][]byte{nil}
	}
	return b
}

// read blocks until datagrams arrive and returns how many; datagram i is
// b.datagram(i) until the next read.
func (b *datagramBatch) read(pc *ipv4.PacketConn) (int, error) {
	for i := range b.ms {
		b.ms[i].Buffers[0] = b.bufs[i]
	}
	return pc.ReadBatch(b.ms, 0)
}

func (b *datagramBatch) datagram(i int) []byte { return b.bufs[i][:b.ms[i].N] }

// echoBatches sends every datagram back to its sender, a batch at a time.
func echoBatches(pc *ipv4.PacketConn) {
	b := newDatagramBatch()
	for {
		n, err := b.read(pc)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		for i := range n {
			b.ms[i].Buffers[0] = b.datagram(i)
		}
		for out := b.ms[:n]; len(out) > 0; {
			k, err := pc.WriteBatch(out, 0)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			out = out[max(k, 1):] // a datagram that fails is dropped, as the network may
		}
	}
}

type rawUDPBatchedTarget struct {
	addr    string
	payload []byte
}

func newRawUDPBatchedTarget(cfg target.PeerConfig) (target.Target, error) {
	p, err := rawPayload(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if len(p) > udpMaxPayload {
		return nil, fmt.Errorf("peers: raw-udp-batched: payload %s is %d bytes, more than one datagram carries (%d)", cfg.Payload, len(p), udpMaxPayload)
	}
	return &rawUDPBatchedTarget{addr: cfg.Addr, payload: p}, nil
}

func (t *rawUDPBatchedTarget) Dial(ctx context.Context) (target.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", t.addr)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UDPConn)
	uc.SetReadBuffer(udpSocketBuffer)
	uc.SetWriteBuffer(udpSocketBuffer)
	bc := &udpBatchConn{payload: t.payload, uc: uc, pc: ipv4.NewPacketConn(uc), done: make(chan struct{}), msgs: make([]ipv4.Message, udpBatch)}
	for i := range bc.msgs {
		bc.msgs[i].Buffers = [][]byte{nil}
	}
	bc.wg.Go(bc.readLoop)
	bc.wg.Go(bc.reapLoop)
	return bc, nil
}

// Verify checks that one call echoes the payload byte for byte.
func (t *rawUDPBatchedTarget) Verify(ctx context.Context, c target.Conn) error {
	bc, ok := c.(*udpBatchConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	call := bc.newCall()
	if err := bc.call(ctx, call); err != nil {
		return err
	}
	return checkEcho("raw-udp-batched", t.payload, call.resp)
}

// udpBatchConn is one connected socket shared by its callers.
type udpBatchConn struct {
	payload []byte
	uc      *net.UDPConn
	pc      *ipv4.PacketConn
	done    chan struct{} // closed when the socket fails or closes
	wg      sync.WaitGroup
	callers callerTable[udpBatchCall]

	mu     sync.Mutex
	busy   bool     // a caller is writing
	queue  [][]byte // requests queued behind it
	err    error
	closed bool

	// the writing caller's, swapped with queue
	out  [][]byte
	msgs []ipv4.Message
}

// udpBatchCall is one caller. inflight is the id of its datagram in flight
// (0: none); whoever swaps it to 0 — the reader with the reply, the reaper
// at the time-out, the caller giving up — owns the outcome and is the only
// one to send on reply.
type udpBatchCall struct {
	index    uint64
	seq      uint32
	inflight atomic.Uint64
	req      []byte
	resp     []byte
	reply    chan error
}

var errUDPLost = fmt.Errorf("peers: raw-udp-batched: no reply within %v (datagram lost)", udpTimeout)

func (bc *udpBatchConn) newCall() *udpBatchCall {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	call := &udpBatchCall{index: uint64(bc.callers.len()), req: make([]byte, udpHeaderLen+len(bc.payload)),
		resp: make([]byte, len(bc.payload)), reply: make(chan error, 1)}
	copy(call.req[udpHeaderLen:], bc.payload)
	bc.callers.add(call)
	return call
}

func (bc *udpBatchConn) NewCaller() (target.Caller, error) {
	call := bc.newCall()
	return func(ctx context.Context) error { return bc.call(ctx, call) }, nil
}

func (bc *udpBatchConn) call(ctx context.Context, call *udpBatchCall) error {
	if call.seq++; call.seq == 0 {
		call.seq = 1 // 0 is "none in flight"
	}
	id := call.index<<32 | uint64(call.seq)
	binary.LittleEndian.PutUint64(call.req, id)
	call.inflight.Store(id)
	if err := bc.send(call.req); err != nil {
		call.inflight.Store(0)
		return err
	}
	select {
	case err := <-call.reply:
		return err
	case <-bc.done:
		if !call.inflight.CompareAndSwap(id, 0) {
			return <-call.reply // answered as the socket failed
		}
		return bc.failure()
	case <-ctx.Done():
		if !call.inflight.CompareAndSwap(id, 0) {
			<-call.reply
		}
		return ctx.Err()
	}
}

// send writes req at once if no other caller is writing, and then what
// others queued meanwhile; otherwise it queues req, which stays untouched
// until its reply arrives, so it is not copied.
func (bc *udpBatchConn) send(req []byte) error {
	bc.mu.Lock()
	if bc.err != nil {
		bc.mu.Unlock()
		return bc.err
	}
	if bc.busy {
		bc.queue = append(bc.queue, req)
		bc.mu.Unlock()
		return nil
	}
	bc.busy = true
	bc.mu.Unlock()
	_, err := bc.uc.Write(req)
	for err == nil {
		bc.mu.Lock()
		if len(bc.queue) == 0 {
			break
		}
		bc.out, bc.queue = bc.queue, bc.out[:0]
		bc.mu.Unlock()
		err = bc.flush()
	}
	if err != nil {
		bc.fail(err)
		bc.mu.Lock()
	}
	bc.busy = false
	bc.mu.Unlock()
	return err
}

// flush sends bc.out in sendmmsg batches.
func (bc *udpBatchConn) flush() error {
	for len(bc.out) > 0 {
		n := min(len(bc.out), udpBatch)
		for i, b := range bc.out[:n] {
			bc.msgs[i].Buffers[0] = b
		}
		for ms := bc.msgs[:n]; len(ms) > 0; {
			k, err := bc.pc.WriteBatch(ms, 0)
			if err != nil {
				return err
			}
			ms = ms[k:]
		}
		clear(bc.out[:n])
		bc.out = bc.out[n:]
	}
	bc.out = bc.out[:0]
	return nil
}

func (bc *udpBatchConn) readLoop() {
	b := newDatagramBatch()
	for {
		n, err := b.read(bc.pc)
		if err != nil {
			bc.fail(err)
			return
		}
		for i := range n {
			d := b.datagram(i)
			if len(d) < udpHeaderLen {
				continue
			}
			id := binary.LittleEndian.Uint64(d)
			call := bc.callers.get(id >> 32)
			if call == nil || !call.inflight.CompareAndSwap(id, 0) {
				continue // a late reply to a call that timed out
			}
			if len(d) != len(call.req) {
				call.reply <- fmt.Errorf("peers: raw-udp-batched: reply of %d bytes, want %d", len(d), len(call.req))
				continue
			}
			copy(call.resp, d[udpHeaderLen:])
			call.reply <- nil
		}
	}
}

// reapLoop fails calls whose datagram has been in flight for udpTimeout:
// it notes each caller's id in flight per tick, which costs the calls
// themselves nothing (no clock reading, no timer).
func (bc *udpBatchConn) reapLoop() {
	t := time.NewTicker(udpReapEvery)
	defer t.Stop()
	type seen struct {
		id    uint64
		ticks int
	}
	var last []seen
	for {
		select {
		case <-bc.done:
			return
		case <-t.C:
		}
		calls := bc.callers.load()
		for len(last) < len(calls) {
			last = append(last, seen{})
		}
		for i, call := range calls {
			id := call.inflight.Load()
			if id == 0 || id != last[i].id {
				last[i] = seen{id: id}
				continue
			}
			if last[i].ticks++; time.Duration(last[i].ticks)*udpReapEvery >= udpTimeout && call.inflight.CompareAndSwap(id, 0) {
				call.reply <- errUDPLost
				last[i] = seen{}
			}
		}
	}
}

func (bc *udpBatchConn) failure() error {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return bc.err
}

func (bc *udpBatchConn) fail(err error) {
	bc.mu.Lock()
	if bc.err == nil {
		if bc.closed {
			err = errors.New("connection closed")
		}
		bc.err = fmt.Errorf("peers: raw-udp-batched: %w", err)
		close(bc.done)
	}
	bc.mu.Unlock()
	bc.uc.Close()
}

func (bc *udpBatchConn) Close() error {
	bc.mu.Lock()
	bc.closed = true
	bc.mu.Unlock()
	bc.fail(net.ErrClosed)
	bc.wg.Wait()
	return nil
}
