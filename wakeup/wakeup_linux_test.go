package wakeup

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The timerfd goroutine never reads the expiry count: every expiry must
// still reach C, not only the first.
func TestTimerfdSignalsEveryExpiry(t *testing.T) {
	tm := New()
	defer tm.Close()
	if tm.f == nil {
		t.Skip("no timerfd on this kernel")
	}
	for i := 0; i < 200; i++ {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(50 * time.Microsecond))}
		if err := unix.TimerfdSettime(tm.fd, 0, &spec, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tm.C:
		case <-time.After(5 * time.Second):
			t.Fatalf("expiry %d never signalled", i)
		}
	}
}

// Waits come back after their duration, however many in a row, and a
// stale signal does not cut the next wait short.
func TestWait(t *testing.T) {
	tm := New()
	defer tm.Close()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		d := time.Duration(20+i) * time.Microsecond
		start := time.Now()
		if err := tm.Wait(ctx, d); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got < d {
			t.Fatalf("wait %d of %v returned after %v", i, d, got)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := tm.Wait(cctx, time.Hour); err != context.Canceled {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// BenchmarkWait: the cost of one 50 µs wait (CPU time: run with -cpu 1
// and compare user+sys with wall time).
func BenchmarkWait(b *testing.B) {
	tm := New()
	defer tm.Close()
	ctx := context.Background()
	for b.Loop() {
		tm.Wait(ctx, 50*time.Microsecond)
	}
}
