package udp_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports/transporttest"
	"rpcbench/transports/udp"
	"rpcbench/wire"
)

// hostileMessage is the size of the messages whose first fragments a
// hostile source sends and never completes.
const hostileMessage = 256 << 10

// fragment returns fragment index of a request of hostileMessage zero bytes
// in datagrams of the default 1200 bytes.
func fragment(id uint64, index int) *wire.Frame {
	chunk := 1200 - wire.HeaderLen - 8
	count := (hostileMessage + chunk - 1) / chunk
	n := chunk
	f := wire.Frame{Kind: wire.KindRequest, Flags: wire.FlagFragment, CallID: rpcbench.CallID("Echo.Echo"), RequestID: id}
	if index == count-1 {
		f.Flags |= wire.FlagLastFragment
		n = hostileMessage - index*chunk
	}
	p := binary.BigEndian.AppendUint32(nil, hostileMessage)
	p = binary.BigEndian.AppendUint16(p, uint16(index))
	p = binary.BigEndian.AppendUint16(p, uint16(count))
	f.Payload = append(p, make([]byte, n)...)
	return &f
}

// partials sends, from each of sources, the first fragments of perSource
// messages, then their last fragments, and returns how many messages the
// server reported missing fragments of: those it admitted to reassembly.
func partials(t *testing.T, sources []*reflector, perSource int, before uint64, bound int64) int {
	t.Helper()
	count := (hostileMessage + 1163) / 1164
	for _, r := range sources {
		for i := range perSource {
			r.send(fragment(uint64(i+1), 0))
		}
	}
	time.Sleep(200 * time.Millisecond)
	transporttest.WantHeapWithin(t, before, bound, fmt.Sprintf("%d sources sending the first fragment of %d messages of %d KiB", len(sources), perSource, hostileMessage>>10))
	for _, r := range sources {
		r.frames = nil
		for i := range perSource {
			r.send(fragment(uint64(i+1), count-1))
		}
	}
	admitted := 0
	for _, r := range sources { // the reports wait in the sockets' buffers
		r.drain(50 * time.Millisecond)
		for _, f := range r.frames {
			if f.Kind == wire.KindPong && f.RequestID != 0 {
				admitted++
			}
		}
	}
	return admitted
}

// A hostile source that starts many large messages and completes none holds
// at most 64 partial messages, all sources together at most
// ReassemblyBytes; partials are dropped after ReassemblyTimeout, and the
// server answers calls, small during the attack and large after it.
func TestHostileFragmentsBounded(t *testing.T) {
	const timeout = 500 * time.Millisecond
	for _, c := range []struct {
		name               string
		sources, perSource int
		reassemblyBytes    int
		admits             int
	}{
		{"per-address", 1, 200, 0, 64},               // 50 MiB asked for, 16 MiB admitted
		{"per-server", 8, 32, 8 * hostileMessage, 8}, // 64 MiB asked for, 2 MiB admitted
	} {
		t.Run(c.name, func(t *testing.T) {
			o := udp.Options{MaxMessage: hostileMessage, ReassemblyTimeout: timeout, ReassemblyBytes: c.reassemblyBytes}
			tr := newTransport(t, o)
			addr := transporttest.ServeEcho(t, tr)
			client := transporttest.Dial(t, newTransport(t, o), addr, rpcbench.ClientOptions{})
			var sources []*reflector
			for range c.sources {
				nc, err := net.Dial("udp", addr)
				must(t, err)
				t.Cleanup(func() { nc.Close() })
				sources = append(sources, &reflector{t: t, c: nc})
			}
			before := transporttest.HeapInUse()
			admitted := partials(t, sources, c.perSource, before, int64(c.admits*hostileMessage+8<<20))
			t.Logf("%d of %d partial messages admitted", admitted, c.sources*c.perSource)
			if admitted == 0 || admitted > c.admits {
				t.Fatalf("%d partial messages admitted, want 1 to %d", admitted, c.admits)
			}
			transporttest.WantEcho(t, client, []byte("small"))

			start := time.Now()
			for grew := int64(transporttest.HeapInUse()) - int64(before); grew > 4<<20; grew = int64(transporttest.HeapInUse()) - int64(before) {
				if time.Since(start) > timeout+3*time.Second {
					t.Fatalf("partial messages still hold %d MiB %v after the last fragment", grew>>20, time.Since(start))
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("partial messages dropped within %v of the last fragment (timeout %v)", time.Since(start), timeout)
			transporttest.WantEcho(t, client, make([]byte, hostileMessage-1024))
		})
	}
}
