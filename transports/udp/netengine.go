package udp

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/wire"
)

// netListener is the "net" engine: one goroutine reads the socket in
// batches (recvmmsg on Linux) and dispatches each datagram; replies are
// written by the goroutines that produce them, coalesced into sendmmsg
// calls when they coincide.
type netListener struct {
	uc        *net.UDPConn
	bw        *batchWriter
	d         *dispatcher
	closeSock sync.Once
}

func listenNet(t *Transport, addr string) (*netListener, error) {
	la, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, err
	}
	uc.SetReadBuffer(t.opts.SocketBuffer)
	uc.SetWriteBuffer(t.opts.SocketBuffer)
	bw, err := newBatchWriter(uc, false)
	if err != nil {
		uc.Close()
		return nil, err
	}
	l := &netListener{uc: uc, bw: bw}
	write := func(b []byte, to netip.AddrPort, _ any) error { return bw.write(b, to) }
	l.d = newDispatcher(&t.opts, write, l.closeSocket)
	return l, nil
}

func (l *netListener) closeSocket() { l.closeSock.Do(func() { l.uc.Close() }) }

// Addr implements rpcbench.Listener.
func (l *netListener) Addr() net.Addr { return l.uc.LocalAddr() }

// Close implements rpcbench.Listener: no new sessions; the socket stays
// open for the sessions there are until the server closes them.
func (l *netListener) Close() error {
	l.d.close()
	return nil
}

// Serve implements rpcbench.Listener. It returns net.ErrClosed once the
// listener is closed and its last session has ended.
func (l *netListener) Serve(h rpcbench.ConnHandler) error {
	if err := l.d.setHandler(h); err != nil {
		return err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(l.d.sweepEvery())
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				l.d.sweep(now)
			}
		}
	}()
	err := l.readLoop()
	close(stop)
	wg.Wait()
	l.closeSocket()
	l.d.closeAll()
	return err
}

func (l *netListener) readLoop() error {
	o := l.d.opts
	r, err := newBatchReader(l.uc, o.ReadBatch, o.recvBuffer())
	if err != nil {
		return err
	}
	var delay time.Duration
	var f wire.Frame
	for {
		n, err := r.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			// ICMP errors and the like: not fatal to a datagram server.
			delay = min(max(2*delay, time.Millisecond), 100*time.Millisecond)
			time.Sleep(delay)
			continue
		}
		delay = 0
		// The replies that calls answered inline write while this batch
		// is handled leave together, as a batch too.
		corked := n > 1 && l.bw.cork()
		for i := range n {
			b, from := r.datagram(i)
			if from.IsValid() {
				l.d.datagram(b, from, nil, &f)
			}
		}
		if corked {
			l.bw.uncork()
		}
	}
}
