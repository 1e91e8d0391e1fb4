package tcp_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/tcp"
	"rpcbench/transports/transporttest"
	"rpcbench/wire"
)

func hostileServer(t *testing.T, o tcp.Options) string {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	tr, err := tcp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return transporttest.ServeEcho(t, tr)
}

// A header announcing the largest payload costs the server nothing until
// the payload arrives: memory follows bytes received.
func TestAnnouncedLengthBuysNoMemory(t *testing.T) {
	for _, engine := range tcp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := hostileServer(t, tcp.Options{Engine: engine})
			before := transporttest.HeapInUse()
			const conns = 8
			for i, nc := range transporttest.DialTCP(t, addr, conns) {
				if _, err := nc.Write(transporttest.EchoRequest(uint64(i+1), wire.DefaultMaxPayload, []byte("x"))); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(200 * time.Millisecond) // the server reads the headers
			grew := int64(transporttest.HeapInUse()) - int64(before)
			t.Logf("%d headers announcing %d MiB each: heap in use grew %d KiB", conns, wire.DefaultMaxPayload>>20, grew>>10)
			if grew > 8<<20 {
				t.Fatalf("heap grew %d MiB for %d headers (announced %d MiB in all)", grew>>20, conns, conns*wire.DefaultMaxPayload>>20)
			}
		})
	}
}

// A client that trickles a frame is dropped at FrameTimeout although every
// byte re-arms the idle timeout; one idle between frames is not.
func TestSlowFrameTimesOut(t *testing.T) {
	const frameTimeout = 300 * time.Millisecond
	for _, engine := range tcp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := hostileServer(t, tcp.Options{Engine: engine, Limits: admit.Limits{FrameTimeout: frameTimeout}})
			conns := transporttest.DialTCP(t, addr, 2)
			slow, idle := conns[0], conns[1]
			req := transporttest.EchoRequest(1, 64, bytes.Repeat([]byte("y"), 64))
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for _, b := range req {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := slow.Write([]byte{b}); err != nil {
						return
					}
				}
			}()
			took := transporttest.Closed(t, slow, 3*time.Second)
			t.Logf("trickling connection closed after %v", took)
			if took < frameTimeout/2 {
				t.Fatalf("closed after %v, before the frame timeout of %v", took, frameTimeout)
			}

			// Idle past the frame timeout, then a whole frame: served.
			time.Sleep(2 * frameTimeout)
			if _, err := idle.Write(req); err != nil {
				t.Fatal(err)
			}
			idle.SetReadDeadline(time.Now().Add(3 * time.Second))
			r := make([]byte, wire.HeaderLen+64)
			for n := 0; n < len(r); {
				m, err := idle.Read(r[n:])
				if err != nil {
					t.Fatalf("idle connection: %v", err)
				}
				n += m
			}
			if wire.Kind(r[2]) != wire.KindResponse {
				t.Fatalf("idle connection got a %v frame", wire.Kind(r[2]))
			}
		})
	}
}

// Frames being received share MaxInProgress: connections whose large frames
// cannot get memory in time are dropped, the heap stays within the budget,
// and small calls go on meanwhile.
func TestInProgressBudget(t *testing.T) {
	const budget = 4 << 20
	for _, engine := range tcp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := hostileServer(t, tcp.Options{Engine: engine, Limits: admit.Limits{MaxInProgress: budget, FrameTimeout: 300 * time.Millisecond}})
			before := transporttest.HeapInUse()
			const conns = 8
			// 3 MiB of a 4 MiB frame each, then nothing.
			wait := transporttest.SendPartial(transporttest.DialTCP(t, addr, conns), transporttest.EchoRequest(1, 4<<20, nil), 3<<20)
			defer wait()
			time.Sleep(150 * time.Millisecond)
			// gnet's own buffers double as they fill and are pooled, so
			// they hold up to twice what the budget counts.
			bound := int64(3 * budget)
			if engine == "gnet" {
				bound *= 2
			}
			transporttest.WantHeapWithin(t, before, bound, fmt.Sprintf("%d connections sending 3 MiB each, budget %d MiB", conns, budget>>20))
			transporttest.WantEcho(t, transporttest.Dial(t, mustTCP(t, engine), addr, rpcbench.ClientOptions{}), []byte("small"))
		})
	}
}

func mustTCP(t *testing.T, engine string) rpcbench.Transport {
	tr, err := tcp.New(tcp.Options{Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Connections over MaxConns, or over MaxConnsPerAddr from one address, are
// closed at once and logged; a freed slot admits the next.
func TestConnectionCaps(t *testing.T) {
	for _, engine := range tcp.Engines {
		for _, c := range transporttest.ConnCaps {
			t.Run(engine+"/"+c.Name, func(t *testing.T) {
				var log transporttest.Log
				addr := hostileServer(t, tcp.Options{Engine: engine, Limits: c.Limits, Logf: log.Logf})
				conns := transporttest.DialTCP(t, addr, 2)
				for _, nc := range conns { // admitted: they answer a ping
					ping(t, nc)
				}
				over := transporttest.DialTCP(t, addr, 1)[0]
				transporttest.Closed(t, over, 2*time.Second)
				log.Want(t, "refusing", c.Want)
				conns[0].Close()
				time.Sleep(100 * time.Millisecond) // the server notices
				ping(t, transporttest.DialTCP(t, addr, 1)[0])
			})
		}
	}
}

func ping(t *testing.T, nc net.Conn) {
	t.Helper()
	f := wire.Frame{Kind: wire.KindPing, RequestID: 7}
	if _, err := nc.Write(wire.Append(nil, &f)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, wire.HeaderLen)
	for n := 0; n < len(b); {
		m, err := nc.Read(b[n:])
		if err != nil {
			t.Fatalf("ping: %v", err)
		}
		n += m
	}
	if wire.Kind(b[2]) != wire.KindPong {
		t.Fatalf("ping answered with %v", wire.Kind(b[2]))
	}
}

// A client that sends many echo requests and never reads its replies
// holds a bounded amount of the server's memory: requests wait (or the
// connection is dropped) once replies pile up.
func TestUnreadRepliesBounded(t *testing.T) {
	for _, engine := range tcp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := hostileServer(t, tcp.Options{Engine: engine, Limits: admit.Limits{MaxInProgressPerConn: 8 << 20}})
			nc := transporttest.DialTCP(t, addr, 1)[0]
			before := transporttest.HeapInUse()
			payload := make([]byte, 64<<10)
			sent := 0
			for i := range 2000 {
				nc.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
				f := wire.Frame{Kind: wire.KindRequest, CallID: rpcbench.CallID("Echo.Inline"), RequestID: uint64(i + 1), Payload: payload}
				if _, err := nc.Write(wire.Append(nil, &f)); err != nil {
					break // the server stopped reading, or dropped us
				}
				sent++
			}
			time.Sleep(300 * time.Millisecond)
			grew := int64(transporttest.HeapInUse()) - int64(before)
			t.Logf("%d of 2000 64 KiB requests sent without reading a reply: heap grew %d MiB", sent, grew>>20)
			if grew > 48<<20 {
				t.Fatalf("heap grew %d MiB", grew>>20)
			}
		})
	}
}
