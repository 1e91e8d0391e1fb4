package udp

import (
	"net"
	"testing"
	"time"

	"rpcbench/wire"
)

// FuzzClientReplies feeds arbitrary datagrams to a client with two calls
// outstanding, one request in a single datagram and one in fragments, as
// if the server had sent them: reply fragments go through the client's
// reassembly, pongs carrying reports of missing fragments (nacks) through
// the retransmission of the fragmented request. No panic, and never more
// bytes held for replies than the client's budget.
func FuzzClientReplies(f *testing.F) {
	opts := Options{MaxMessage: 64 << 10, ReassemblyBytes: 16 << 10}
	if err := opts.fill(); err != nil {
		f.Fatal(err)
	}
	chunk := opts.chunk()
	reply := wire.Frame{Kind: wire.KindResponse, Codec: 1, CallID: 9}
	big := make([]byte, 3*chunk+10)
	for i := range 4 {
		f.Add(appendFragment(nil, &reply, big, i, 4, chunk), uint8(1))
	}
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindResponse, Codec: 1, CallID: 9, Payload: []byte("ok")}), uint8(0))
	r := newReassembly(&reply, fragHeader{total: 4 * chunk, count: 4})
	nack := r.appendMissing(nil, opts.reportRanges())
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindPong, Payload: nack}), uint8(1))
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindPong, Payload: []byte{0, 0, 0, 1, 255, 255, 255, 255}}), uint8(1))
	f.Add(wire.Append(nil, &wire.Frame{Kind: wire.KindError, Payload: []byte{1, 2}}), uint8(0))

	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		uc, err := net.DialUDP("udp", nil, sink.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		cc, err := newClientConn(uc, &opts, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		small := wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: 9, RequestID: 1, Payload: []byte("hi")}
		frag := wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: 9, RequestID: 2, Payload: make([]byte, 5*chunk)}
		if err := cc.Send(&small); err != nil {
			t.Fatal(err)
		}
		if err := cc.Send(&frag); err != nil {
			t.Fatal(err)
		}
		fr, err := wire.ParseDatagram(b, opts.datagramPayload())
		if err != nil {
			return
		}
		// Calls 1 and 2 are outstanding; 3 is not.
		fr.RequestID = cc.base + 1 + uint64(which%3)
		for range 2 {
			if up, ok := cc.handle(&fr); ok && up.RequestID != 1+uint64(which%3) {
				t.Fatalf("reply for call %d went up as %d", 1+which%3, up.RequestID)
			}
		}
		cc.mu.Lock()
		held := cc.reasmBytes
		cc.mu.Unlock()
		if held > opts.ReassemblyBytes {
			t.Fatalf("%d bytes held for replies, budget %d", held, opts.ReassemblyBytes)
		}
	})
}
