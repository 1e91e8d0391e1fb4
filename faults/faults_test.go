package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/faults"
	"rpcbench/transports/tcp"
	"rpcbench/transports/transporttest"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in    string
		delay time.Duration
		copy  bool
	}{
		{"", 0, false},
		{"delay=200us", 200 * time.Microsecond, false},
		{"copy=1", 0, true},
		{" delay = 2ms , copy=true ", 2 * time.Millisecond, true},
		{"copy=0,delay=0", 0, false},
	} {
		in, err := faults.Parse(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if in.Delay() != tc.delay || in.Copies() != tc.copy || in.Active() != (tc.delay > 0 || tc.copy) {
			t.Errorf("%q: delay %v copy %v active %v, want %v %v", tc.in, in.Delay(), in.Copies(), in.Active(), tc.delay, tc.copy)
		}
	}
	for _, bad := range []string{"panic=1", "delay=abc", "delay=-1ms", "copy=maybe", "delay", "copy=1,bogus=2", "spin=fast", "spin=-1us"} {
		_, err := faults.Parse(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, faults.Env+": ") {
			t.Errorf("%q: want one line starting with %s, got %q", bad, faults.Env, msg)
		}
	}
	_, err := faults.Parse("panic=1")
	if err == nil || !strings.Contains(err.Error(), "valid keys: delay, spin, copy") {
		t.Errorf("an unknown key's error does not list the valid keys: %v", err)
	}
}

// TestSpin: spin busy-waits on the replying goroutine (Blocks stays false,
// so inline calls stay inline) for at least its duration.
func TestSpin(t *testing.T) {
	in, err := faults.Parse("spin=2ms")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Active() || in.Blocks() {
		t.Fatalf("spin: active %v blocks %v, want true false", in.Active(), in.Blocks())
	}
	start := time.Now()
	in.Reply([]byte("x"))
	if d := time.Since(start); d < 2*time.Millisecond {
		t.Fatalf("Reply with spin=2ms returned after %v", d)
	}
}

func TestReply(t *testing.T) {
	in, _ := faults.Parse("copy=1")
	body := []byte("reply")
	got := in.Reply(body)
	if string(got) != "reply" || &got[0] == &body[0] {
		t.Fatalf("copy=1 returned %q sharing the input: %v", got, &got[0] == &body[0])
	}
	if in.Blocks() {
		t.Fatal("copy alone blocks")
	}
	in.SetDelay(time.Millisecond)
	if !in.Blocks() {
		t.Fatal("a delay does not block")
	}
	start := time.Now()
	in.Reply(body)
	if d := time.Since(start); d < time.Millisecond {
		t.Fatalf("Reply with a 1ms delay returned after %v", d)
	}
}

// TestAttach: an attached Injector slows a real server's calls, and
// SetDelay(0) on an Injector with nothing else to inject removes it from
// the server again.
func TestAttach(t *testing.T) {
	const delay = 200 * time.Millisecond
	in, err := faults.Parse("delay=" + delay.String())
	if err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	srv.HandleRaw("T.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }, rpcbench.Inline())
	in.Attach(srv)
	tr, _ := tcp.New(tcp.Options{})
	c := transporttest.Dial(t, tr, transporttest.Serve(t, tr, srv), rpcbench.ClientOptions{})
	call := func() time.Duration {
		start := time.Now()
		var out []byte
		if err := c.Call(context.Background(), "T.Echo", []byte("x"), &out); err != nil || string(out) != "x" {
			t.Fatalf("call: %q %v", out, err)
		}
		return time.Since(start)
	}
	if d := call(); d < delay {
		t.Fatalf("a call with %v injected took %v", delay, d)
	}
	in.SetDelay(0)
	if d := call(); d >= delay {
		t.Fatalf("a call took %v after the delay was removed", d)
	}
	in.SetDelay(delay)
	if d := call(); d < delay {
		t.Fatalf("a call took %v after the delay was set again", d)
	}
}

// FuzzParse: any string parses or gives a one-line error naming the
// variable; what parses has a non-negative delay.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "delay=200us", "copy=1", "delay=2ms,copy=true", "panic=1", "delay=-1s", ",,=", "delay==1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := faults.Parse(s)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, faults.Env+": ") {
				t.Fatalf("%q: error %q", s, msg)
			}
			return
		}
		if in.Delay() < 0 {
			t.Fatalf("%q: delay %v", s, in.Delay())
		}
	})
}
