package udp_test

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/services/admin"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
	"rpcbench/wire"
)

// bigReply is the size of the cached reply a forged report of missing
// fragments would reflect.
const bigReply = 6000

// fragments is how many datagrams of the default 1200 bytes carry it.
const fragments = (bigReply + 1163) / 1164

// ampToken is the admin token of amplifiedServer: the attacker is assumed
// to know it, so that Admin.Host answers in full.
const ampToken = "amplification-test-token"

// amplifiedServer serves Admin.Host and Big.Reply (bigReply bytes) on a
// fresh listener of the engine.
func amplifiedServer(t *testing.T, engine string) string {
	t.Helper()
	tr := newTransport(t, udp.Options{Engine: engine})
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	must(t, admin.Register(srv, nil, ampToken))
	must(t, srv.HandleRaw("Big.Reply", func(context.Context, []byte) ([]byte, error) { return make([]byte, bigReply), nil }))
	l, err := tr.Listen("127.0.0.1:0")
	must(t, err)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// reflector is a raw socket that never echoes a cookie, as an attacker
// forging a victim's address would not see one; it counts bytes both ways.
type reflector struct {
	t        *testing.T
	c        net.Conn
	sent     int
	received int
	cookie   []byte // the last cookie the server offered
	frames   []wire.Frame
}

func (r *reflector) send(f *wire.Frame) {
	b := wire.Append(nil, f)
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
	r.sent += len(b)
}

// drain reads everything the server sends within wait.
func (r *reflector) drain(wait time.Duration) {
	buf := make([]byte, 64<<10)
	for {
		r.c.SetReadDeadline(time.Now().Add(wait))
		n, err := r.c.Read(buf)
		if err != nil {
			return
		}
		r.received += n
		f, err := wire.ParseDatagram(buf[:n], 1<<16)
		if err != nil {
			r.t.Fatalf("bad datagram from server: %v", err)
		}
		if f.Flags&wire.FlagCookie != 0 {
			r.cookie = append([]byte(nil), f.Payload...)
		}
		f.Payload = append([]byte(nil), f.Payload...)
		r.frames = append(r.frames, f)
	}
}

func (r *reflector) checkBound(what string) {
	r.t.Helper()
	r.t.Logf("%s: sent %d bytes, received %d", what, r.sent, r.received)
	if r.received > 3*r.sent {
		r.t.Fatalf("%s: received %d bytes for %d sent: over 3x", what, r.received, r.sent)
	}
}

// A source that has not echoed its cookie receives at most three times what
// it sent, whatever it asks for: Admin.Host, a fragmented reply, reports of
// missing fragments of a cached reply (the ×185 reflection). Once it echoes
// the cookie it is served in full.
func TestUnverifiedSourceIsBounded(t *testing.T) {
	for _, engine := range udp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := amplifiedServer(t, engine)
			c, err := net.Dial("udp", addr)
			must(t, err)
			defer c.Close()
			r := &reflector{t: t, c: c}
			held0 := udp.ReadStats().AmplificationHeld

			host := wire.Frame{Kind: wire.KindRequest, Codec: 2, CallID: rpcbench.CallID(admin.MethodHost), RequestID: 1 << 40, Payload: []byte(`{"token":"` + ampToken + `"}`)}
			for range 5 { // the gnet engine may lose datagrams while it starts
				r.send(&host)
				r.drain(100 * time.Millisecond)
			}
			r.checkBound("Admin.Host")
			if len(r.cookie) == 0 {
				t.Fatalf("no cookie offered in %d frames", len(r.frames))
			}

			big := wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID("Big.Reply"), RequestID: 2 << 40}
			r.send(&big)
			r.drain(200 * time.Millisecond)
			// Forged reports of missing fragments: all of them, many times.
			nack := wire.Frame{Kind: wire.KindPing, RequestID: 2 << 40, Payload: []byte{0, 0, 0, 10}}
			for range 20 {
				r.send(&nack)
			}
			r.drain(200 * time.Millisecond)
			r.checkBound("Big.Reply and 20 reports of missing fragments")
			if udp.ReadStats().AmplificationHeld == held0 {
				t.Fatal("the bound held nothing back")
			}

			// The echo proves the address: a copy of the request and
			// reports of what is missing now get the whole cached reply.
			r.send(&wire.Frame{Kind: wire.KindPing, Flags: wire.FlagCookie, Payload: r.cookie})
			r.frames = nil
			r.send(&big)
			got := map[uint16]bool{}
			for try := 0; try < 20 && len(got) < fragments; try++ {
				r.drain(100 * time.Millisecond)
				for _, f := range r.frames {
					if f.RequestID == big.RequestID && f.Kind == wire.KindResponse && len(f.Payload) >= 8 {
						got[binary.BigEndian.Uint16(f.Payload[4:])] = true
					}
				}
				var missing []byte // what a client reports: each missing index
				for i := range uint16(fragments) {
					if !got[i] {
						missing = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(missing, i), 1)
					}
				}
				r.send(&wire.Frame{Kind: wire.KindPing, RequestID: big.RequestID, Payload: missing})
			}
			if len(got) != fragments {
				t.Fatalf("after the echo: %d of the reply's %d fragments", len(got), fragments)
			}
		})
	}
}

// A forged cookie verifies nothing.
func TestForgedCookie(t *testing.T) {
	addr := amplifiedServer(t, "net")
	c, err := net.Dial("udp", addr)
	must(t, err)
	defer c.Close()
	r := &reflector{t: t, c: c}
	r.send(&wire.Frame{Kind: wire.KindPing, Flags: wire.FlagCookie, Payload: make([]byte, 16)})
	for range 3 {
		r.send(&wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID("Big.Reply"), RequestID: 3 << 40})
		r.drain(100 * time.Millisecond)
	}
	r.checkBound("Big.Reply after a forged cookie")
}

// A real client is verified by Dial's handshake: nothing it is sent is held
// back, large fragmented replies included.
func TestClientIsVerified(t *testing.T) {
	for _, engine := range udp.Engines {
		t.Run(engine, func(t *testing.T) {
			addr := amplifiedServer(t, engine)
			before := udp.ReadStats()
			cl := transporttest.Dial(t, newTransport(t, udp.Options{Engine: engine}), addr, rpcbench.ClientOptions{})
			defer cl.Close()
			var out []byte
			for range 3 {
				must(t, cl.Call(context.Background(), "Big.Reply", []byte("x"), &out))
				if len(out) != bigReply {
					t.Fatalf("reply of %d bytes, want %d", len(out), bigReply)
				}
			}
			after := udp.ReadStats()
			if after.VerifiedAddrs == before.VerifiedAddrs {
				t.Fatal("the client's address was not verified")
			}
			if after.AmplificationHeld != before.AmplificationHeld {
				t.Fatalf("%d datagrams held back from a verified client", after.AmplificationHeld-before.AmplificationHeld)
			}
		})
	}
}
