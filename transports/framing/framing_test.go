package framing

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"rpcbench"
	"rpcbench/wire"
)

func frames(n int) ([]wire.Frame, []byte) {
	var fs []wire.Frame
	var buf []byte
	for i := 0; i < n; i++ {
		f := wire.Frame{Kind: wire.KindRequest, Codec: 1, RequestID: uint64(i), Payload: bytes.Repeat([]byte{byte(i)}, i*997%40000)}
		fs = append(fs, f)
		buf = wire.Append(buf, &f)
	}
	return fs, buf
}

// TestReaderPartialReads: frames arrive whole whatever the read sizes, and
// the buffer grows for a frame larger than its start size.
func TestReaderPartialReads(t *testing.T) {
	want, buf := frames(50)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(buf)),
		"half":     iotest.HalfReader(bytes.NewReader(buf)),
		"whole":    bytes.NewReader(buf),
	} {
		t.Run(name, func(t *testing.T) {
			fr := NewReader(r, 0)
			for i, w := range want {
				f, err := fr.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if f.RequestID != w.RequestID || !bytes.Equal(f.Payload, w.Payload) {
					t.Fatalf("frame %d differs", i)
				}
			}
			if _, err := fr.Next(); err != io.EOF {
				t.Fatalf("after the last frame: %v, want EOF", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	_, buf := frames(3)
	if _, err := NewReader(bytes.NewReader(buf[:len(buf)-1]), 0).Next(); err != nil {
		t.Fatalf("first frame of a truncated stream: %v", err)
	}
	r := NewReader(bytes.NewReader(buf[:len(buf)-1]), 0)
	var err error
	for err == nil {
		_, err = r.Next()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated stream: %v, want unexpected EOF", err)
	}
	big := wire.Append(nil, &wire.Frame{Kind: wire.KindRequest, Payload: make([]byte, 1000)})
	if _, err := NewReader(bytes.NewReader(big), 999).Next(); !errors.Is(err, wire.ErrTooLarge) {
		t.Fatalf("oversize frame: %v", err)
	}
}

// slowConn counts writes and makes each take a while, so that senders pile
// up behind the writer.
type slowConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
	// started, when set, is closed as the first write begins.
	started chan struct{}
	once    sync.Once
}

func (c *slowConn) Write(p []byte) (int, error) {
	if c.started != nil {
		c.once.Do(func() { close(c.started) })
	}
	time.Sleep(200 * time.Microsecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}
func (c *slowConn) Close() error { return nil }

// TestSendCoalesces: concurrent frames leave in fewer writes than frames,
// all of them intact and none lost.
func TestSendCoalesces(t *testing.T) {
	sc := &slowConn{}
	c := NewConn(sc, Options{})
	const senders, each = 32, 20
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				f := wire.Frame{Kind: wire.KindResponse, RequestID: uint64(s*each + i), Payload: []byte("x")}
				if err := c.Send(&f); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	r := NewReader(&sc.buf, 0)
	seen := map[uint64]bool{}
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[f.RequestID] = true
	}
	if len(seen) != senders*each {
		t.Fatalf("%d distinct frames arrived, want %d", len(seen), senders*each)
	}
	if sc.writes >= senders*each {
		t.Fatalf("%d writes for %d frames: nothing was coalesced", sc.writes, senders*each)
	}
	t.Logf("%d frames in %d writes", senders*each, sc.writes)
}

// TestCloseFlushesQueued: Close while a write is under way lets the queued
// frames out first, and later Sends fail.
func TestCloseFlushesQueued(t *testing.T) {
	sc := &slowConn{started: make(chan struct{})}
	c := NewConn(sc, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Send(&wire.Frame{Kind: wire.KindResponse, RequestID: uint64(i)}) == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	// Close only once a write is under way, however slowly the senders
	// were scheduled.
	<-sc.started
	c.Close()
	wg.Wait()
	if err := c.Send(&wire.Frame{Kind: wire.KindResponse}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	n := 0
	r := NewReader(&sc.buf, 0)
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if n != accepted || n == 0 {
		t.Fatalf("%d frames written, but %d Sends succeeded", n, accepted)
	}
}

// TestCorkHoldsUntilUncork: frames pushed while corked wait for Uncork,
// whose caller becomes their one writer.
func TestCorkHoldsUntilUncork(t *testing.T) {
	q := NewQueue(0)
	q.Cork()
	for i := 0; i < 3; i++ {
		if writer, err := q.Push(&wire.Frame{Kind: wire.KindResponse, RequestID: uint64(i)}); writer || err != nil {
			t.Fatalf("push %d while corked: writer=%v err=%v, want a held frame", i, writer, err)
		}
	}
	if !q.Uncork() {
		t.Fatal("Uncork with held frames did not make the caller the writer")
	}
	batch := q.Take()
	n := 0
	for r := NewReader(bytes.NewReader(batch), 0); ; n++ {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if n != 3 {
		t.Fatalf("the batch holds %d frames, want 3", n)
	}
	if q.Next(nil) != nil {
		t.Fatal("queue not empty after the batch")
	}
	if q.Uncork() {
		t.Fatal("Uncork of an empty queue made a writer")
	}
}

// TestCloseWritesCorkedFrames: closing a connection whose replies are held
// by Cork writes them before the socket closes.
func TestCloseWritesCorkedFrames(t *testing.T) {
	sc := &slowConn{}
	c := NewConn(sc, Options{})
	c.q.Cork()
	for i := 0; i < 5; i++ {
		if err := c.Send(&wire.Frame{Kind: wire.KindResponse, RequestID: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sc.mu.Lock()
		n := 0
		for r := NewReader(bytes.NewReader(sc.buf.Bytes()), 0); ; n++ {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		sc.mu.Unlock()
		if n == 5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 5 held frames written after Close", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestServeAnswersBurstInOneWrite: requests that arrive together and are
// answered inline leave in far fewer writes than replies (one, unless the
// kernel splits the burst), over a real socket.
func TestServeAnswersBurstInOneWrite(t *testing.T) {
	srv := rpcbench.NewServer(rpcbench.ServerOptions{})
	if err := srv.HandleRaw("Inline.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }, rpcbench.Inline()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	counted := make(chan *countingConn, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		cc := &countingConn{Conn: nc}
		counted <- cc
		Serve(cc, srv, Options{})
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const n = 100
	var burst []byte
	for i := 0; i < n; i++ {
		burst = wire.Append(burst, &wire.Frame{Kind: wire.KindRequest, Codec: 1, CallID: rpcbench.CallID("Inline.Echo"), RequestID: uint64(i + 1), Payload: []byte("ping")})
	}
	if _, err := nc.Write(burst); err != nil {
		t.Fatal(err)
	}
	r := NewReader(nc, 0)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < n; i++ {
		f, err := r.Next()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if f.Kind != wire.KindResponse || f.RequestID != uint64(i+1) || string(f.Payload) != "ping" {
			t.Fatalf("reply %d: %v id %d %q", i, f.Kind, f.RequestID, f.Payload)
		}
	}
	cc := <-counted
	if w := cc.writes.Load(); w > n/10 {
		t.Fatalf("%d replies took %d writes: the burst was not corked", n, w)
	} else {
		t.Logf("%d replies in %d writes", n, w)
	}
}

type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}
