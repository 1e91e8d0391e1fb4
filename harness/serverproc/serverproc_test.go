package serverproc

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"rpcbench/peers"
	"rpcbench/services/admin"
	"rpcbench/transports"
	_ "rpcbench/transports/tcp"
)

// session drives a server function over pipes as the runner drives a
// server process over its stdin and stdout.
type session struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *bufio.Scanner
	done chan error
}

func startSession(t *testing.T, serve func(in io.Reader, out io.Writer) error) *session {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, out: bufio.NewScanner(outR), done: make(chan error, 1)}
	go func() {
		err := serve(inR, outW)
		outW.Close()
		s.done <- err
	}()
	return s
}

func (s *session) line() string {
	s.t.Helper()
	if !s.out.Scan() {
		s.t.Fatalf("server output ended: %v", s.out.Err())
	}
	return s.out.Text()
}

func (s *session) ask(cmd string) string {
	s.t.Helper()
	if _, err := io.WriteString(s.in, cmd+"\n"); err != nil {
		s.t.Fatal(err)
	}
	reply, ok := strings.CutPrefix(s.line(), ReplyPrefix)
	if !ok {
		s.t.Fatalf("%s: reply lacks %q", cmd, ReplyPrefix)
	}
	return reply
}

func (s *session) stop() {
	s.t.Helper()
	s.in.Close()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("server ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("server did not end after its stdin closed")
	}
}

func readyAddr(t *testing.T, line, name string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(line, ReadyPrefix+name+" on ")
	if !ok || rest == "" {
		t.Fatalf("ready line %q, want %q<address>", line, ReadyPrefix+name+" on ")
	}
	return rest
}

// An rpcbench transport's server answers stats (with its call counters),
// gc and delay, and shuts down when its stdin ends.
func TestServe(t *testing.T) {
	tr, err := transports.New("tcp", transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, func(in io.Reader, out io.Writer) error {
		return Serve(ServeConfig{Transport: tr, Name: "tcp", Addr: "127.0.0.1:0", In: in, Out: out, Log: io.Discard})
	})
	readyAddr(t, s.line(), "tcp")
	var st admin.Stats
	if err := json.Unmarshal([]byte(s.ask("stats")), &st); err != nil || st.TakenAt == 0 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	for cmd, want := range map[string]string{"gc": "ok", "delay 0": "ok", "delay soon": `error bad duration "soon"`, "reboot": `error unknown command "reboot"`} {
		if got := s.ask(cmd); got != want {
			t.Errorf("%s: %q, want %q", cmd, got, want)
		}
	}
	s.stop()
}

// A peer's server speaks the same protocol, without the delay hook.
func TestServePeer(t *testing.T) {
	const name = "raw-tcp-pingpong"
	p, ok := peers.Lookup(name)
	if !ok {
		t.Fatalf("no peer %s", name)
	}
	s := startSession(t, func(in io.Reader, out io.Writer) error { return ServePeer(name, p, "127.0.0.1:0", in, out) })
	readyAddr(t, s.line(), name)
	var st admin.Stats
	if err := json.Unmarshal([]byte(s.ask("stats")), &st); err != nil || st.TakenAt == 0 || st.Calls != 0 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if got := s.ask("gc"); got != "ok" {
		t.Errorf("gc: %q", got)
	}
	if got := s.ask("delay 5ms"); got != `error unknown command "delay 5ms"` {
		t.Errorf("delay: %q", got)
	}
	s.stop()
}
