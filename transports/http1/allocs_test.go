package http1_test

import (
	"context"
	"runtime"
	"testing"

	"rpcbench/transports/http1"
	"rpcbench/transports/transporttest"
)

// TestAllocsPerCall guards the steady-state allocations of one 64-byte
// call, client and server together: the streamed request body is read
// into the connection's kept buffer, without an allocation per call.
func TestAllocsPerCall(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	tr, err := http1.New(http1.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c, stop := transporttest.StartEcho(t, tr)
	defer stop()
	ctx := context.Background()
	in, out := make([]byte, 64), []byte(nil)
	for range 2000 { // warm pools and buffers
		c.Call(ctx, "Echo.Echo", &in, &out)
	}
	runtime.GC()
	n := testing.AllocsPerRun(2000, func() {
		if err := c.Call(ctx, "Echo.Echo", &in, &out); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.2f allocations per call (client + server)", n)
	if n > maxAllocsPerCall {
		t.Fatalf("%.2f allocations per call, want <= %d", n, maxAllocsPerCall)
	}
}

// maxAllocsPerCall: one of the core's (the server's state of a call run
// through Begin, which a cancel may still reach after it ran, so it is not
// pooled), and one of fasthttp's: with StreamRequestBody its serve loop
// drains every request's stream through io.CopyN, whose LimitReader
// escapes (fasthttp v1.78 streaming.go:166), even when the handler read
// the body to its end. The client's exchange allocates nothing.
const maxAllocsPerCall = 2
