package brokertest

import (
	"context"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/wire"
)

// RunNotAFrame checks that a server drops messages on its service's
// address that are not frames, and keeps serving. publish sends body to
// the service at the listener's address as another client of the broker
// would.
func RunNotAFrame(t *testing.T, tr rpcbench.Transport, listenAddr string, publish func(t *testing.T, addr string, body []byte)) {
	addr := serve(t, tr, listenAddr, nil)
	hdr := wire.AppendHeader(nil, &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID("Echo.Echo"), RequestID: 1}, 100)
	for _, body := range [][]byte{nil, []byte("GET / HTTP/1.0\r\n\r\n"), append(hdr, "only part of the payload"...)} {
		publish(t, addr, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, tr, addr, rpcbench.ClientOptions{Codec: "raw"})
	must(t, err)
	defer c.Close()
	var out []byte
	if err := c.Call(ctx, "Echo.Echo", []byte("still up"), &out); err != nil || string(out) != "still up" {
		t.Fatalf("server stopped serving after messages that are not frames: %v", err)
	}
}
