package rpcbench_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/faults"
	"rpcbench/transports/tcp"
	"rpcbench/transports/transporttest"
)

func TestCallIDIsFNV1a(t *testing.T) {
	// Reference values of 32-bit FNV-1a.
	for name, want := range map[string]uint32{"": 0x811c9dc5, "a": 0xe40c292c, "foobar": 0xbf9cf968} {
		if got := rpcbench.CallID(name); got != want {
			t.Errorf("CallID(%q) = %#x, want %#x", name, got, want)
		}
	}
}

// collision finds two method names with the same call ID.
func collision(t *testing.T) (string, string) {
	seen := map[uint32]string{}
	for i := 0; i < 1<<22; i++ {
		name := fmt.Sprintf("S.M%d", i)
		id := rpcbench.CallID(name)
		if other, ok := seen[id]; ok {
			return other, name
		}
		seen[id] = name
	}
	t.Fatal("no collision found")
	return "", ""
}

func noop(context.Context, []byte) ([]byte, error) { return nil, nil }

func TestRegistrationErrors(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	if err := srv.HandleRaw("Echo.Echo", noop); err != nil {
		t.Fatal(err)
	}
	err := srv.HandleRaw("Echo.Echo", noop)
	if err == nil || !strings.Contains(err.Error(), `"Echo.Echo" registered twice`) {
		t.Fatalf("duplicate: got %v", err)
	}
	a, b := collision(t)
	if err := srv.HandleRaw(a, noop); err != nil {
		t.Fatal(err)
	}
	err = srv.HandleRaw(b, noop)
	if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Fatalf("collision of %q and %q: got %v, want an error naming both", a, b, err)
	}
	for _, bad := range []string{"", "Echo", ".Echo", "Echo.", "Echo Echo.X", "a/b.c"} {
		if err := srv.HandleRaw(bad, noop); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if err := srv.Register(&struct{}{}); err == nil {
		t.Error("a receiver without methods was accepted")
	}
}

func TestErrorsIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &rpcbench.Error{Code: rpcbench.CodeDeadlineExceeded, Message: "late"})
	if !errors.Is(err, rpcbench.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("deadline error does not match its sentinels")
	}
	if errors.Is(err, rpcbench.ErrUnavailable) {
		t.Fatal("deadline error matches unavailable")
	}
	if rpcbench.CodeOf(err) != rpcbench.CodeDeadlineExceeded || rpcbench.CodeOf(context.Canceled) != rpcbench.CodeCanceled {
		t.Fatal("CodeOf")
	}
	if got := rpcbench.CodeResourceExhausted.Slug(); got != "resource_exhausted" {
		t.Fatalf("slug %q", got)
	}
}

// TestHandlerSeesDeadline: the caller's remaining time arrives as the
// handler context's deadline.
func TestHandlerSeesDeadline(t *testing.T) {
	tr, _ := tcp.New(tcp.Options{})
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	got := make(chan time.Duration, 1)
	srv.HandleRaw("T.Deadline", func(ctx context.Context, _ []byte) ([]byte, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			got <- -1
		} else {
			got <- time.Until(dl)
		}
		return nil, nil
	})
	l, err := tr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	c, err := rpcbench.Dial(context.Background(), tr, l.Addr().String(), rpcbench.ClientOptions{Codec: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []byte
	if err := c.Call(ctx, "T.Deadline", []byte{}, &out); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d <= time.Second || d > 2*time.Second {
		t.Fatalf("handler saw %v left, want about 2s", d)
	}
	if err := c.Call(context.Background(), "T.Deadline", []byte{}, &out); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d != -1 {
		t.Fatalf("call without deadline: handler saw a deadline %v away", d)
	}
}

// TestHeartbeatDetectsDeadPeer: a server that accepts but never answers is
// declared dead after the heartbeat misses, failing the pending call.
func TestHeartbeatDetectsDeadPeer(t *testing.T) {
	silent, err := newSilentServer()
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	tr, _ := tcp.New(tcp.Options{})
	c, err := rpcbench.Dial(context.Background(), tr, silent.Addr().String(),
		rpcbench.ClientOptions{Codec: "raw", HeartbeatInterval: 50 * time.Millisecond, HeartbeatMisses: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	var out []byte
	err = c.Call(context.Background(), "Echo.Echo", []byte("x"), &out)
	if !errors.Is(err, rpcbench.ErrUnavailable) || !strings.Contains(err.Error(), "heartbeat") {
		t.Fatalf("got %v, want unavailable after missed heartbeats", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

// serveTCP starts srv on loopback and returns a client for it.
func serveTCP(t *testing.T, srv *rpcbench.Server, o rpcbench.ClientOptions) *rpcbench.Client {
	t.Helper()
	tr, _ := tcp.New(tcp.Options{})
	return transporttest.Dial(t, tr, transporttest.Serve(t, tr, srv), o)
}

func TestInflightLimitPerConn(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{MaxInflightPerConn: 2, Logf: func(string, ...any) {}})
	release, entered := make(chan struct{}), make(chan struct{}, 2)
	srv.HandleRaw("T.Block", func(context.Context, []byte) ([]byte, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	c := serveTCP(t, srv, rpcbench.ClientOptions{Codec: "raw"})
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { var out []byte; done <- c.Call(context.Background(), "T.Block", []byte{}, &out) }()
		<-entered
	}
	var out []byte
	err := c.Call(context.Background(), "T.Block", []byte{}, &out)
	if !errors.Is(err, rpcbench.ErrResourceExhausted) {
		t.Fatalf("third call over a limit of 2: got %v", err)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestPayloadLimits(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{MaxPayload: 1000, Logf: func(string, ...any) {}})
	srv.HandleRaw("T.Grow", func(_ context.Context, b []byte) ([]byte, error) { return make([]byte, 2000), nil })
	c := serveTCP(t, srv, rpcbench.ClientOptions{Codec: "raw", MaxPayload: 1000})
	var out []byte
	if err := c.Call(context.Background(), "T.Grow", make([]byte, 1001), &out); !errors.Is(err, rpcbench.ErrResourceExhausted) {
		t.Fatalf("oversize request: got %v", err)
	}
	if err := c.Call(context.Background(), "T.Grow", []byte{1}, &out); !errors.Is(err, rpcbench.ErrResourceExhausted) {
		t.Fatalf("oversize reply: got %v", err)
	}
}

// TestInjectedDelayLeavesInlineCallsConcurrent: a simulated slow handler
// (a reply hook that blocks, faults.Injector) must not be run on the
// connection's reader, where its calls would queue one behind another;
// with the delay on, inline calls run on workers, so four of them can be
// inside the handler at once.
func TestInjectedDelayLeavesInlineCallsConcurrent(t *testing.T) {
	in, err := faults.Parse("delay=1ms")
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var mu sync.Mutex
	inside := 0
	all := make(chan struct{})
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	in.Attach(srv)
	srv.HandleRaw("T.Barrier", func(context.Context, []byte) ([]byte, error) {
		mu.Lock()
		if inside++; inside == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil, nil
		case <-time.After(5 * time.Second):
			return nil, errors.New("the other calls never arrived: inline calls ran one at a time")
		}
	}, rpcbench.Inline())
	c := serveTCP(t, srv, rpcbench.ClientOptions{Codec: "raw"})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { var out []byte; errs <- c.Call(context.Background(), "T.Barrier", []byte{}, &out) }()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestInlineContextKeptWhenDoneAsked: an inline call's state is recycled
// after it runs, except when its handler asked for ctx.Done(), which a
// goroutine may still select on: that context must stay ended whatever
// calls follow, and its deadline must stay its own.
func TestInlineContextKeptWhenDoneAsked(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	kept := make(chan context.Context, 1)
	srv.HandleRaw("T.Keep", func(ctx context.Context, p []byte) ([]byte, error) {
		ctx.Done()
		kept <- ctx
		return p, nil
	}, rpcbench.Inline())
	srv.HandleRaw("T.Echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil }, rpcbench.Inline())
	c := serveTCP(t, srv, rpcbench.ClientOptions{Codec: "raw"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []byte
	if err := c.Call(ctx, "T.Keep", []byte("k"), &out); err != nil {
		t.Fatal(err)
	}
	leaked := <-kept
	dl, _ := leaked.Deadline()
	for i := 0; i < 200; i++ {
		if err := c.Call(context.Background(), "T.Echo", []byte("e"), &out); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-leaked.Done():
	default:
		t.Fatal("the context of a finished call is live again")
	}
	if !errors.Is(leaked.Err(), context.Canceled) {
		t.Fatalf("the context of a finished call says %v", leaked.Err())
	}
	if got, ok := leaked.Deadline(); !ok || !got.Equal(dl) {
		t.Fatalf("deadline changed from %v to %v (%v)", dl, got, ok)
	}
}
