package peers

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench/target"
)

// lossyEcho is a UDP server that holds back its first datagram and sends
// it late, truncates its second, and echoes the rest.
func lossyEcho(t *testing.T, late time.Duration) (string, func()) {
	t.Helper()
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for i := 0; ; i++ {
			n, from, err := uc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			switch i {
			case 0:
				held := append([]byte(nil), buf[:n]...)
				wg.Go(func() {
					time.Sleep(late)
					uc.WriteToUDPAddrPort(held, from)
				})
			case 1:
				uc.WriteToUDPAddrPort(buf[:n-1], from)
			default:
				uc.WriteToUDPAddrPort(buf[:n], from)
			}
		}
	})
	return uc.LocalAddr().String(), func() { uc.Close(); wg.Wait() }
}

// A lost datagram fails its call after the time-out, a short reply fails
// its call, the connection goes on serving, and a reply that comes after
// its call gave up is not taken for a later call's.
func TestUDPBatchedLossAndLateReplies(t *testing.T) {
	late := udpTimeout + 2*udpReapEvery
	addr, stop := lossyEcho(t, late)
	defer stop()
	p, _ := Lookup("raw-udp-batched")
	tgt, err := p.NewTarget(target.PeerConfig{Addr: addr, Payload: "Bytes(64)", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := tgt.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bc := c.(*udpBatchConn)
	call := bc.newCall()

	start := time.Now()
	if err := bc.call(ctx, call); !errors.Is(err, errUDPLost) {
		t.Fatalf("call whose datagram was held back: %v, want %v", err, errUDPLost)
	}
	if d := time.Since(start); d < udpTimeout || d > udpTimeout+udpReapEvery+500*time.Millisecond {
		t.Errorf("the lost call failed after %v, want %v to %v", d, udpTimeout, udpTimeout+udpReapEvery)
	}
	if err := bc.call(ctx, call); err == nil || !strings.Contains(err.Error(), "reply of 71 bytes, want 72") {
		t.Fatalf("call answered with a truncated reply: %v", err)
	}
	// Calls until the held-back reply (of the first call's id) has come
	// and gone: each must get its own reply.
	for time.Since(start) < late+200*time.Millisecond {
		binary.LittleEndian.PutUint64(call.resp, 0)
		if err := bc.call(ctx, call); err != nil {
			t.Fatalf("call after the faults: %v", err)
		}
		if err := checkEcho("raw-udp-batched", bc.payload, call.resp); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A call gives up when its context ends and leaves nothing behind for the
// caller's next call.
func TestUDPBatchedCancel(t *testing.T) {
	addr, stop := lossyEcho(t, 50*time.Millisecond)
	defer stop()
	p, _ := Lookup("raw-udp-batched")
	tgt, err := p.NewTarget(target.PeerConfig{Addr: addr, Payload: "Small", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tgt.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bc := c.(*udpBatchConn)
	call := bc.newCall()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := bc.call(ctx, call); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call whose reply comes late: %v, want the context's deadline", err)
	}
	if n := len(call.reply); n != 0 {
		t.Fatalf("%d replies left queued for the caller's next call", n)
	}
	time.Sleep(100 * time.Millisecond)  // the late reply arrives and is dropped
	bc.call(context.Background(), call) // the truncated one
	if err := bc.call(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if n := len(call.reply); n != 0 {
		t.Fatalf("%d replies left queued after a clean call", n)
	}
}
