// Package serverproc runs the benchmark server as its own process and
// talks to it over the process's stdin and stdout.
//
// The runner starts its own binary as "rpcbench bench-server --transport
// ... --addr 127.0.0.1:0" (Start). The child (Serve) pins itself to the
// CPUs in RPCBENCH_PIN_CPUS, registers the built-in services, injects
// the faults RPCBENCH_INJECT asks for (package faults), listens, prints
//
//	rpcbench: serving <transport> on <address>
//
// (the same line as "rpcbench serve") and then answers one command per
// stdin line with one stdout line that starts with ReplyPrefix (so that
// anything a library prints to stdout cannot be mistaken for a reply):
//
//	stats   "rpcbench-reply " + one line of JSON: services/admin.Stats (CPU,
//	        allocations, RSS, socket bytes, calls) of the server process
//	gc      run a garbage collection, reply "rpcbench-reply ok"
//	delay D add D (a Go duration, "5ms"; "0" for none) to every call from
//	        now on, reply "rpcbench-reply ok": a fault schedule's "slow"
//
// End of stdin shuts the server down, so a server never outlives its
// runner. The stats travel outside the sockets being measured, so asking
// for them adds no bytes to the server's wire counters, and the channel
// works for any server kind: a peer's server (gRPC, net/rpc, raw sockets;
// package peers) speaks it too, through ServePeer, started as
// "rpcbench bench-server --transport <peer> --addr ...".
package serverproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"rpcbench"
	"rpcbench/cost"
	"rpcbench/faults"
	"rpcbench/services"
	"rpcbench/services/admin"
	"rpcbench/target"
	"rpcbench/transports/tlsconf"
)

// PinEnv names the environment variable holding the CPU list the server
// pins itself to.
const PinEnv = "RPCBENCH_PIN_CPUS"

// ReadyPrefix starts the line a server prints when it accepts calls;
// ReplyPrefix starts every reply to a command.
const (
	ReadyPrefix = "rpcbench: serving "
	ReplyPrefix = "rpcbench-reply "
)

// ServeConfig is the child side's configuration.
type ServeConfig struct {
	Transport rpcbench.Transport
	// Name is the transport's display name in the ready line.
	Name string
	Addr string
	// NoInline serves every call from a worker goroutine (ServerOptions).
	NoInline bool
	In       io.Reader
	Out      io.Writer
	Log      io.Writer
	// Register, if set, adds methods beyond the built-in services (the
	// echo of a user's message, services/protoecho).
	Register func(*rpcbench.Server) error
	// Announce, if set, registers the listening server in a service
	// registry before the ready line; the returned stop deregisters it,
	// before the server drains at the end.
	Announce func(ctx context.Context, srv *rpcbench.Server, addr string) (stop func(context.Context) error, err error)
}

// Serve runs the server until In ends.
func Serve(cfg ServeConfig) error {
	if err := pinFromEnv(); err != nil {
		return err
	}
	faulty, err := faults.FromEnv()
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, "rpcbench server: "+format+"\n", args...) }
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: logf, NoInline: cfg.NoInline})
	faulty.Attach(srv)
	if err := services.Register(srv); err != nil {
		return err
	}
	if cfg.Register != nil {
		if err := cfg.Register(srv); err != nil {
			return err
		}
	}
	l, err := cfg.Transport.Listen(cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", cfg.Name, cfg.Addr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()
	unannounce := func(context.Context) error { return nil }
	if cfg.Announce != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		unannounce, err = cfg.Announce(ctx, srv, l.Addr().String())
		cancel()
		if err != nil {
			srv.Close()
			return fmt.Errorf("announce: %w", err)
		}
	}
	err = answer(cfg.In, cfg.Out, cfg.Name, l.Addr().String(), serveErr, commandSet{
		stats: func() admin.Stats { return admin.Collect(srv) },
		delay: faulty.SetDelay,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Consumers stop sending here before the server drains.
	if err := unannounce(ctx); err != nil {
		logf("deregistering: %v", err)
	}
	return srv.Shutdown(ctx)
}

// ServePeer is the server process of the peer called name: it pins itself
// to the CPUs in PinEnv, starts p's server on addr, prints the ready line
// and answers "stats" and "gc" on in/out until in ends, as Serve does for
// rpcbench transports. A peer's stats are the process's cost counters; its
// call counters stay zero, and it takes no "delay".
func ServePeer(name string, p target.Peer, addr string, in io.Reader, out io.Writer) error {
	if p.Serve == nil {
		return fmt.Errorf("serverproc: peer %s has no server", name)
	}
	if err := pinFromEnv(); err != nil {
		return err
	}
	actual, stop, err := p.Serve(addr)
	if err != nil {
		return fmt.Errorf("serverproc: peer %s: listen on %s: %w", name, addr, err)
	}
	if err := answer(in, out, name, actual, nil, commandSet{stats: func() admin.Stats { return admin.Stats{Snapshot: cost.Take()} }}); err != nil {
		stop()
		return err
	}
	return stop()
}

// pinFromEnv pins this process to the CPUs listed in PinEnv, if any.
func pinFromEnv() error {
	list := os.Getenv(PinEnv)
	if list == "" {
		return nil
	}
	cpus, err := cost.ParseCPUs(list)
	if err != nil {
		return err
	}
	return cost.Pin(cpus)
}

// commandSet is what a server process does for the stdin commands.
type commandSet struct {
	stats func() admin.Stats
	// delay adds a delay to every call; nil: the server has no such hook.
	delay func(time.Duration)
}

// answer prints the ready line for name on addr, then answers one command
// per line of in until in ends (nil) or serveErr delivers (its error).
func answer(in io.Reader, w io.Writer, name, addr string, serveErr <-chan error, cs commandSet) error {
	out := bufio.NewWriter(w)
	fmt.Fprintf(out, "%s%s on %s\n", ReadyPrefix, name, addr)
	if err := out.Flush(); err != nil {
		return err
	}
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			cmds <- strings.TrimSpace(sc.Text())
		}
		close(cmds)
	}()
	for {
		select {
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		case cmd, ok := <-cmds:
			if !ok {
				return nil
			}
			out.WriteString(ReplyPrefix)
			verb, arg, _ := strings.Cut(cmd, " ")
			switch {
			case verb == "stats":
				b, _ := json.Marshal(cs.stats())
				out.Write(b)
				out.WriteByte('\n')
			case verb == "gc":
				runtime.GC()
				out.WriteString("ok\n")
			case verb == "delay" && cs.delay != nil:
				if d, err := time.ParseDuration(arg); err == nil {
					cs.delay(d)
					out.WriteString("ok\n")
				} else {
					fmt.Fprintf(out, "error bad duration %q\n", arg)
				}
			default:
				fmt.Fprintf(out, "error unknown command %q\n", cmd)
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
	}
}

// Options start a server process.
type Options struct {
	// Binary and Args: the command, e.g. os.Executable() and
	// ["bench-server", "--transport", "tcp", "--addr", "127.0.0.1:0"].
	Binary string
	Args   []string
	// CPUs to pin the server to (none: not pinned); GOMAXPROCS is set to
	// their number.
	CPUs []int
	// ReadyTimeout bounds the wait for the ready line. Default 10s.
	ReadyTimeout time.Duration
	// Env is added to this process's environment, last, so that it
	// overrides ("RPCBENCH_INJECT=" removes an injection).
	Env []string
}

// Proc is a running server process.
type Proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	// Addr is the address the server printed.
	Addr string

	mu     sync.Mutex // serialises commands
	stderr *tailBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// Start runs the server and waits for its ready line.
func Start(opts Options) (*Proc, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	cmd := exec.Command(opts.Binary, opts.Args...)
	cmd.Env = os.Environ() // with internal/sysmon's GODEBUG, if the load process has it
	if len(opts.CPUs) > 0 {
		cmd.Env = append(cmd.Env, PinEnv+"="+cost.FormatCPUs(opts.CPUs), fmt.Sprintf("GOMAXPROCS=%d", len(opts.CPUs)))
	}
	// The server presents this process's self-signed certificate, which
	// this process's TLS clients trust.
	self, err := tlsconf.SelfEnvEntry()
	if err != nil {
		return nil, fmt.Errorf("serverproc: %w", err)
	}
	cmd.Env = append(cmd.Env, self)
	// Quiet quic-go's buffer-size warning: the harness records buffer
	// settings in the manifest instead.
	cmd.Env = append(cmd.Env, "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=true")
	cmd.Env = append(cmd.Env, opts.Env...)
	p := &Proc{cmd: cmd, lines: make(chan string, 4), stderr: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting server: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.After(opts.ReadyTimeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.exited
				return nil, fmt.Errorf("server exited before it was ready: %v%s", p.err, p.stderrTail())
			}
			rest, found := strings.CutPrefix(line, ReadyPrefix)
			if !found {
				p.stderr.Write([]byte(line + "\n")) // a library's chatter
				continue
			}
			_, addr, found := strings.Cut(rest, " on ")
			if !found {
				p.kill()
				return nil, fmt.Errorf("server printed %q, want %q<transport> on <address>%s", line, ReadyPrefix, p.stderrTail())
			}
			p.Addr = addr
			return p, nil
		case <-deadline:
			p.kill()
			return nil, fmt.Errorf("server not ready after %v%s", opts.ReadyTimeout, p.stderrTail())
		}
	}
}

// command sends one command and returns the reply line.
func (p *Proc) command(cmd string, timeout time.Duration) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		return "", fmt.Errorf("server %s: %w%s", cmd, err, p.stderrTail())
	}
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.exited
				return "", fmt.Errorf("server exited: %v%s", p.err, p.stderrTail())
			}
			reply, isReply := strings.CutPrefix(line, ReplyPrefix)
			if !isReply {
				// Something in the server printed to stdout; keep it
				// with stderr for error messages.
				p.stderr.Write([]byte(line + "\n"))
				continue
			}
			if strings.HasPrefix(reply, "error ") {
				return "", fmt.Errorf("server %s: %s", cmd, reply)
			}
			return reply, nil
		case <-deadline:
			return "", fmt.Errorf("server did not answer %q within %v%s", cmd, timeout, p.stderrTail())
		}
	}
}

// Stats asks the server for its counters.
func (p *Proc) Stats() (*admin.Stats, error) {
	line, err := p.command("stats", 10*time.Second)
	if err != nil {
		return nil, err
	}
	var st admin.Stats
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		return nil, fmt.Errorf("server stats: %w (line %q)", err, line)
	}
	return &st, nil
}

// GC asks the server to collect garbage, so that windows start alike.
func (p *Proc) GC() error {
	_, err := p.command("gc", 10*time.Second)
	return err
}

// SetDelay makes the server add d to every call from now on (0: none).
func (p *Proc) SetDelay(d time.Duration) error {
	_, err := p.command("delay "+d.String(), 10*time.Second)
	return err
}

// Kill ends the process at once with SIGKILL, as a crash would: no
// deregistration, no draining; connections are reset by the kernel.
func (p *Proc) Kill() {
	p.kill()
	p.stdin.Close()
}

// Stop ends the server: it closes stdin, waits for a graceful exit, and
// kills the process after timeout. A server that crashed or exited with an
// error is reported.
func (p *Proc) Stop(timeout time.Duration) error {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("server did not stop within %v; killed%s", timeout, p.stderrTail())
	}
	if p.err != nil {
		return fmt.Errorf("server exited with %v%s", p.err, p.stderrTail())
	}
	return nil
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.err
	default:
		return false, nil
	}
}

func (p *Proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.exited
}

func (p *Proc) stderrTail() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "; server stderr: " + s
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// ErrNotSeparate is returned by in-process servers asked for a separate
// process's figures.
var ErrNotSeparate = errors.New("serverproc: the server shares the client's process")
