package workerpool

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReuse: jobs dispatched one after another run on parked workers,
// not on a new goroutine each.
func TestReuse(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	ran := make(chan string, 1)
	p := New(func(int) { ran <- goroutine() }, Options{Done: done})
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		p.Dispatch(i)
		seen[<-ran] = true
		time.Sleep(time.Millisecond) // let the worker park
	}
	if len(seen) > 50 {
		t.Fatalf("100 jobs in sequence ran on %d goroutines: workers are not reused", len(seen))
	}
}

// goroutine returns the running goroutine's ID from its stack header.
func goroutine() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(b), "goroutine "), " ")
	return id
}

// TestMaxParked: beyond the cap, finishing workers exit instead of parking.
func TestMaxParked(t *testing.T) {
	done := make(chan struct{})
	defer close(done)
	release := make(chan struct{})
	var wg sync.WaitGroup
	p := New(func(int) { <-release; wg.Done() }, Options{Done: done, MaxParked: 2})
	wg.Add(5)
	for i := 0; i < 5; i++ {
		p.Dispatch(i)
	}
	close(release)
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for p.parked.Load() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers parked, want the cap of 2", p.parked.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestExit: parked workers exit after Idle, and at once when Done closes.
func TestExit(t *testing.T) {
	before := runtime.NumGoroutine()
	p := New(func(int) {}, Options{Idle: 10 * time.Millisecond})
	for i := 0; i < 4; i++ {
		p.Dispatch(i)
	}
	waitGoroutines(t, before)

	done := make(chan struct{})
	p = New(func(int) {}, Options{Done: done, Idle: time.Hour})
	for i := 0; i < 4; i++ {
		p.Dispatch(i)
	}
	close(done)
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still running, want %d: parked workers did not exit", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
