package udp

import (
	"net/netip"
	"testing"

	"rpcbench"
	"rpcbench/wire"
)

// nopSession accepts frames and does nothing.
type nopSession struct{}

func (nopSession) Frame(*wire.Frame) {}
func (nopSession) Disconnect(error)  {}

type nopHandler struct{}

func (nopHandler) Connect(rpcbench.ServerConn) rpcbench.Session { return nopSession{} }

// FuzzDispatch feeds arbitrary datagrams, from two addresses, to a server
// dispatcher: no panic, and no partial message over the limits.
func FuzzDispatch(f *testing.F) {
	opts := Options{MaxMessage: 64 << 10, ReassemblyBytes: 256 << 10}
	if err := opts.fill(); err != nil {
		f.Fatal(err)
	}
	msg := make([]byte, 3000)
	hdr := wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: 9, RequestID: 5}
	f.Add(wire.Append(nil, &hdr), false)
	f.Add(appendFragment(nil, &hdr, msg, 0, 3, opts.chunk()), true)
	f.Add(appendFragment(nil, &hdr, msg, 2, 3, opts.chunk()), false)
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindPing, RequestID: 5, Payload: []byte{0, 0, 0, 3}}), true)
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindCancel, RequestID: 5}), false)
	f.Fuzz(func(t *testing.T, b []byte, other bool) {
		d := newDispatcher(&opts, func([]byte, netip.AddrPort, any) error { return nil }, func() {})
		if err := d.setHandler(nopHandler{}); err != nil {
			t.Fatal(err)
		}
		from := netip.MustParseAddrPort("127.0.0.1:1000")
		if other {
			from = netip.MustParseAddrPort("[::1]:2000")
		}
		var fr wire.Frame
		for range 3 {
			d.datagram(b, from, nil, &fr)
		}
		if n := d.reasmLen.Load(); n > int64(opts.ReassemblyBytes) {
			t.Fatalf("%d bytes held in reassembly", n)
		}
		d.close()
		d.closeAll()
		if n := d.reasmLen.Load(); n != 0 {
			t.Fatalf("%d bytes held after close", n)
		}
	})
}
