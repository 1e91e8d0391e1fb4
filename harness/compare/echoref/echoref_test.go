package echoref

import (
	"bytes"
	"context"
	"testing"
	"time"

	"rpcbench/transports"
	"rpcbench/wire"
)

// Requests come back as responses with the same IDs, codec and payload;
// pings as pongs. Many in flight at once on one connection.
func TestEcho(t *testing.T) {
	tr, err := transports.New(Name, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve(nil) }()
	defer func() {
		l.Close()
		<-done
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := tr.Dial(ctx, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const n = 100
	for i := 1; i <= n; i++ {
		f := wire.Frame{Kind: wire.KindRequest, Codec: 3, CallID: 0xABCD, RequestID: uint64(i), Payload: bytes.Repeat([]byte{byte(i)}, i)}
		if err := c.Send(&f); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(&wire.Frame{Kind: wire.KindPing, RequestID: 7777}); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for len(seen) < n+1 {
		f, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Kind {
		case wire.KindPong:
			if f.RequestID != 7777 {
				t.Errorf("pong for %d", f.RequestID)
			}
		case wire.KindResponse:
			i := int(f.RequestID)
			if f.CallID != 0xABCD || f.Codec != 3 || !bytes.Equal(f.Payload, bytes.Repeat([]byte{byte(i)}, i)) {
				t.Errorf("response %d: %+v", i, f)
			}
		default:
			t.Fatalf("unexpected %v frame", f.Kind)
		}
		if seen[f.RequestID] {
			t.Errorf("request %d answered twice", f.RequestID)
		}
		seen[f.RequestID] = true
	}
}
