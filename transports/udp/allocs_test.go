package udp_test

import (
	"context"
	"runtime"
	"testing"

	"rpcbench/transports/udp"
)

// TestAllocsPerCall guards the steady-state allocations of one 64-byte
// call, client and server together (both in this process), on the net
// engine with the raw codec.
func TestAllocsPerCall(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c, stop := startEchoOpts(t, udp.Options{DedupEntries: 512})
	defer stop()
	ctx := context.Background()
	var out []byte
	for i := 0; i < 2000; i++ { // warm pools and maps, fill the reply cache
		c.Call(ctx, "Echo.Echo", payload64, &out)
	}
	runtime.GC()
	n := testing.AllocsPerRun(2000, func() {
		if err := c.Call(ctx, "Echo.Echo", &payload64, &out); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.2f allocations per call (client + server)", n)
	if n > 2 {
		t.Fatalf("%.2f allocations per call, want <= 2", n)
	}
}
