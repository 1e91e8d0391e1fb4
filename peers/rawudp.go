package peers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"rpcbench/target"
)

// Raw UDP datagrams: an 8-byte sequence number, then the payload. The
// server echoes each datagram to its sender.
const (
	udpHeaderLen  = 8
	udpMaxPayload = 65507 - udpHeaderLen
	// udpTimeout: a datagram lost on the way fails the call after this
	// long (the raw reference does not retransmit).
	udpTimeout = time.Second
)

func init() {
	add("raw-udp", target.Peer{
		Network:   "udp",
		Serve:     serveRawUDP,
		NewTarget: newRawUDPTarget,
		Settings: func() map[string]string {
			return rawSettings("connections", "one connected UDP socket per caller (the cell's connections dimension is ignored); server: one socket, one goroutine",
				"multiplexing", "none: one datagram in flight per caller", "framing", "8-byte sequence number + payload, one datagram per call",
				"retransmission", fmt.Sprintf("none: a lost datagram fails the call after %v", udpTimeout),
				"max_payload", fmt.Sprint(udpMaxPayload), "buffers", "OS default socket buffers")
		},
	})
}

func serveRawUDP(addr string) (string, func() error, error) {
	pc, err := net.ListenUDP("udp", mustUDPAddr(addr))
	if err != nil {
		return "", nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			pc.WriteToUDPAddrPort(buf[:n], from)
		}
	})
	return pc.LocalAddr().String(), func() error {
		err := pc.Close()
		wg.Wait()
		return err
	}, nil
}

func mustUDPAddr(addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	}
	return a
}

type rawUDPTarget struct {
	addr    string
	payload []byte
}

func newRawUDPTarget(cfg target.PeerConfig) (target.Target, error) {
	p, err := rawPayload(cfg.Payload, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if len(p) > udpMaxPayload {
		return nil, fmt.Errorf("peers: raw-udp: payload %s is %d bytes, more than one datagram carries (%d)", cfg.Payload, len(p), udpMaxPayload)
	}
	return &rawUDPTarget{addr: cfg.Addr, payload: p}, nil
}

func (t *rawUDPTarget) Dial(context.Context) (target.Conn, error) {
	return &udpConn{t: t}, nil
}

func (t *rawUDPTarget) Verify(_ context.Context, c target.Conn) error {
	uc, ok := c.(*udpConn)
	if !ok {
		return fmt.Errorf("peers: foreign connection %T", c)
	}
	call, err := uc.newCall()
	if err != nil {
		return err
	}
	if err := call.do(); err != nil {
		return err
	}
	return checkEcho("raw-udp", t.payload, call.resp[udpHeaderLen:call.n])
}

type udpConn struct {
	t     *rawUDPTarget
	mu    sync.Mutex
	socks []*net.UDPConn
}

type udpCall struct {
	c    *net.UDPConn
	seq  uint64
	req  []byte
	resp []byte
	n    int
}

func (uc *udpConn) newCall() (*udpCall, error) {
	c, err := net.DialUDP("udp", nil, mustUDPAddr(uc.t.addr))
	if err != nil {
		return nil, err
	}
	uc.mu.Lock()
	uc.socks = append(uc.socks, c)
	uc.mu.Unlock()
	req := make([]byte, udpHeaderLen+len(uc.t.payload))
	copy(req[udpHeaderLen:], uc.t.payload)
	return &udpCall{c: c, req: req, resp: make([]byte, len(req)+1)}, nil
}

// do sends one datagram and waits for the reply with its sequence number,
// dropping late replies to earlier calls.
func (call *udpCall) do() error {
	call.seq++
	binary.LittleEndian.PutUint64(call.req, call.seq)
	if _, err := call.c.Write(call.req); err != nil {
		return err
	}
	if err := call.c.SetReadDeadline(time.Now().Add(udpTimeout)); err != nil {
		return err
	}
	for {
		n, err := call.c.Read(call.resp)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("peers: raw-udp: no reply within %v (datagram lost)", udpTimeout)
			}
			return err
		}
		if n < udpHeaderLen || binary.LittleEndian.Uint64(call.resp) != call.seq {
			continue // a late reply to an earlier, timed-out call
		}
		call.n = n
		if n != len(call.req) {
			return fmt.Errorf("peers: raw-udp: reply of %d bytes, want %d", n, len(call.req))
		}
		return nil
	}
}

func (uc *udpConn) NewCaller() (target.Caller, error) {
	call, err := uc.newCall()
	if err != nil {
		return nil, err
	}
	return func(context.Context) error { return call.do() }, nil
}

func (uc *udpConn) Close() error {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	for _, c := range uc.socks {
		c.Close()
	}
	uc.socks = nil
	return nil
}
