package udp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchReader reads up to len(bufs) datagrams per recvmmsg(2), with their
// source addresses, without allocating.
type batchReader struct {
	rc    syscall.RawConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for IPv4 too
	bufs  [][]byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool // bound once: no closure per read
}

func newBatchReader(uc *net.UDPConn, n, size int) (*batchReader, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &batchReader{rc: rc, hdrs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n), bufs: make([][]byte, n)}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, size)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(size)
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.fn = r.recv
	return r, nil
}

func (r *batchReader) recv(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait for the poller
		}
		r.n, r.errno = int(n), e
		return true
	}
}

// read blocks until at least one datagram has arrived and returns how many
// did; datagram(i) returns each until the next read.
func (r *batchReader) read() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.hdrs[i].Len = 0
	}
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
	return r.n, nil
}

func (r *batchReader) datagram(i int) ([]byte, netip.AddrPort) {
	h := &r.hdrs[i]
	b := r.bufs[i][:h.Len]
	sa := &r.names[i]
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return b, netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return b, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	}
	return b, netip.AddrPort{}
}

// batchWriter coalesces datagrams that goroutines write at the same time
// into sendmmsg(2) calls. The first writer to find it idle writes its own
// datagram at once, then whatever others queued meanwhile, in batches,
// until the queue is empty; the others only queue a copy and return. A
// datagram queued behind a failing write is lost, which the protocol
// recovers from like any loss.
type batchWriter struct {
	uc        *net.UDPConn
	connected bool // the socket has a peer: no destination addresses

	mu    sync.Mutex
	busy  bool
	queue []queued
	arena []byte

	// the writer's side, swapped with the queue
	out      []queued
	outArena []byte
	hdrs     []unix.Mmsghdr
	iovs     []unix.Iovec
	names    []unix.RawSockaddrInet6
	rc       syscall.RawConn
	sent     int
	errno    syscall.Errno
	fn       func(fd uintptr) bool
}

type queued struct {
	off, n int
	to     netip.AddrPort
}

const maxWriteBatch = 64

func newBatchWriter(uc *net.UDPConn, connected bool) (*batchWriter, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	w := &batchWriter{uc: uc, connected: connected, rc: rc,
		hdrs: make([]unix.Mmsghdr, maxWriteBatch), iovs: make([]unix.Iovec, maxWriteBatch), names: make([]unix.RawSockaddrInet6, maxWriteBatch)}
	w.fn = w.sendmmsg
	return w, nil
}

// write sends b to to (ignored on a connected socket). b is not retained.
func (w *batchWriter) write(b []byte, to netip.AddrPort) error {
	w.mu.Lock()
	if w.busy {
		w.queue = append(w.queue, queued{off: len(w.arena), n: len(b), to: to})
		w.arena = append(w.arena, b...)
		w.mu.Unlock()
		return nil
	}
	w.busy = true
	w.mu.Unlock()
	var err error
	if w.connected {
		_, err = w.uc.Write(b)
	} else {
		_, err = w.uc.WriteToUDPAddrPort(b, to)
	}
	w.drain()
	return err
}

// cork makes the caller the writer without writing anything: datagrams
// written until uncork are queued and leave together in sendmmsg calls.
// A read loop corks around one recvmmsg batch, whose replies the handlers
// it calls inline write on its own goroutine, one at a time. It reports
// false, and the caller must not uncork, when another goroutine is the
// writer (that one will send the queue).
func (w *batchWriter) cork() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.busy {
		return false
	}
	w.busy = true
	return true
}

// uncork writes what was queued since cork and gives up the writer's role.
func (w *batchWriter) uncork() { w.drain() }

// drain is the writer's loop: it sends the queue in batches until it
// finds it empty, then gives up the writer's role.
func (w *batchWriter) drain() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.busy = false
			w.mu.Unlock()
			return
		}
		w.out, w.queue = w.queue, w.out[:0]
		w.outArena, w.arena = w.arena, w.outArena[:0]
		w.mu.Unlock()
		w.flush()
	}
}

// flush writes w.out in batches.
func (w *batchWriter) flush() {
	for len(w.out) > 0 {
		n := min(len(w.out), maxWriteBatch)
		for i, q := range w.out[:n] {
			w.iovs[i].Base = &w.outArena[q.off]
			w.iovs[i].SetLen(q.n)
			h := &w.hdrs[i].Hdr
			h.Iov = &w.iovs[i]
			h.SetIovlen(1)
			h.Name, h.Namelen = nil, 0
			if !w.connected {
				h.Name, h.Namelen = (*byte)(unsafe.Pointer(&w.names[i])), putSockaddr(&w.names[i], q.to)
			}
		}
		w.sent = 0
		for w.sent < n {
			before := w.sent
			if err := w.rc.Write(w.fn); err != nil || w.errno != 0 || w.sent == before {
				w.sent++ // drop the datagram that failed
			}
		}
		w.out = w.out[n:]
	}
	w.out = w.out[:0]
}

// sendmmsg writes w.hdrs[w.sent:n] where n is the batch length.
func (w *batchWriter) sendmmsg(fd uintptr) bool {
	n := min(len(w.out), maxWriteBatch)
	for {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[w.sent])), uintptr(n-w.sent), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		w.errno = e
		if e == 0 {
			w.sent += int(r)
		}
		return true
	}
}

func putSockaddr(sa *unix.RawSockaddrInet6, ap netip.AddrPort) uint32 {
	a := ap.Addr()
	port := ap.Port()
	pb := (*[2]byte)(unsafe.Pointer(&sa.Port))
	pb[0], pb[1] = byte(port>>8), byte(port)
	if a.Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
		sa4.Zero = [8]uint8{}
		return unix.SizeofSockaddrInet4
	}
	sa.Family = unix.AF_INET6
	sa.Flowinfo, sa.Scope_id = 0, 0
	sa.Addr = a.As16()
	return unix.SizeofSockaddrInet6
}
