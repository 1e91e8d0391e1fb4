package tcp_test

import (
	"context"
	"runtime"
	"testing"
)

// TestGoAllocs: an asynchronous call (Go, then Wait) over a real TCP
// connection costs at most one allocation more than Call, its Future: the
// call itself is pooled, registered in the connection's table of calls in
// flight and completed by its reader, with no goroutine of its own.
func TestGoAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c, stop := startEcho(t, "net")
	defer stop()
	ctx := context.Background()
	var out []byte
	for i := 0; i < 1000; i++ { // warm pools and maps
		c.Call(ctx, "Echo.Inline", payload64, &out)
		c.Go(ctx, "Echo.Inline", payload64, &out).Wait()
	}
	measure := func(call func() error) float64 {
		runtime.GC()
		return testing.AllocsPerRun(2000, func() {
			if err := call(); err != nil {
				t.Fatal(err)
			}
		})
	}
	sync := measure(func() error { return c.Call(ctx, "Echo.Inline", &payload64, &out) })
	async := measure(func() error { return c.Go(ctx, "Echo.Inline", &payload64, &out).Wait() })
	t.Logf("allocations per call (client + server): Call %.2f, Go+Wait %.2f", sync, async)
	if async > sync+1 {
		t.Fatalf("Go+Wait: %.2f allocations per call, Call %.2f: want at most one more", async, sync)
	}
	if len(out) != len(payload64) {
		t.Fatalf("echo returned %d bytes, want %d", len(out), len(payload64))
	}
}
