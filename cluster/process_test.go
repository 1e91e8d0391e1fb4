package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"rpcbench/cluster"
	"rpcbench/discovery"
	"rpcbench/discovery/registrytest"
	"rpcbench/discovery/regserver"
	"rpcbench/internal/testbin"
	"rpcbench/services"
	"rpcbench/transports/tcp"
)

// Tests with real processes: `rpcbench registry` and `rpcbench serve`,
// built once into a temporary directory, or taken from $RPCBENCH_TEST_BIN.

func rpcbenchBinary(t *testing.T) string { return testbin.Rpcbench(t) }

// process is a running rpcbench command.
type process struct {
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the binary with args and waits for the stdout line that
// matches ready (its first group is the address).
func start(t *testing.T, ready *regexp.Regexp, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(rpcbenchBinary(t), args...), out: &lockedBuffer{}}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("rpcbench %s output:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(p.out, sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p.addr = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("rpcbench %s did not start:\n%s", strings.Join(args, " "), p.out.String())
	}
	return p
}

var (
	registryReady = regexp.MustCompile(`^rpcbench: registry serving \S+ on (\S+)`)
	serveReady    = regexp.MustCompile(`^rpcbench: serving tcp on (\S+)`)
)

func startRegistry(t *testing.T) (*process, *regserver.Client) {
	p := start(t, registryReady, "registry", "--addr", "127.0.0.1:0")
	tr, _ := tcp.New(tcp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := regserver.Dial(ctx, tr, p.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// The registry process passes the discovery conformance suite (lease
// expiry, deregistration, watches), and stops cleanly on SIGTERM.
func TestRegistryProcess(t *testing.T) {
	p, c := startRegistry(t)
	c.Close()
	tr, _ := tcp.New(tcp.Options{})
	t.Run("Conformance", func(t *testing.T) {
		registrytest.Run(t, func(t *testing.T) discovery.Registry {
			c, err := regserver.Dial(context.Background(), tr, p.addr, "")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, registrytest.Options{TTL: 300 * time.Millisecond, ExpirySlack: time.Second})
	})
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("registry exit after SIGTERM: %v\n%s", err, p.out.String())
	}
}

// serveAnnounces reports whether this build's `rpcbench serve` has the
// --registry flag, with which a server announces itself.
func serveAnnounces(t *testing.T) bool {
	out, _ := exec.Command(rpcbenchBinary(t), "serve", "--help").CombinedOutput()
	return strings.Contains(string(out), "-registry")
}

// Three `rpcbench serve` processes; one is SIGKILLed while four workers
// call an idempotent method through the cluster client: every call
// succeeds, the dead instance's breaker opens, and (when serve announces
// itself) its lease expires and it leaves the client's set.
func TestFailoverAfterSIGKILL(t *testing.T) {
	reg, regc := startRegistry(t)
	defer regc.Close()
	self := serveAnnounces(t)
	const ttl = time.Second
	var servers []*process
	for i := range 3 {
		args := []string{"serve", "--addr", "127.0.0.1:0"}
		if self {
			args = append(args, "--registry", "rpcbench://"+reg.addr, "--service-name", "Arith",
				"--instance-id", fmt.Sprint("s", i), "--registry-ttl", ttl.String())
		}
		s := start(t, serveReady, args...)
		servers = append(servers, s)
		if !self {
			// This serve cannot announce itself: announce it from here.
			// The killed one then stays registered (as it would until its
			// lease ran out), which failover must cope with anyway.
			t.Log("rpcbench serve has no --registry flag: the test announces the servers")
			a, err := discovery.Announce(context.Background(), regc, ttl,
				discovery.Instance{Service: "Arith", ID: fmt.Sprint("s", i), Addr: s.addr})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Stop(context.Background())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cluster.Dial(ctx, regc, "Arith", cluster.Options{
		Idempotent:   []string{"Arith.Add"},
		MinInstances: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var calls, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				var r services.AddReply
				err := c.Call(cctx, "Arith.Add", &services.AddArgs{A: int64(w), B: i}, &r)
				cancel()
				calls.Add(1)
				if err != nil || r.Sum != int64(w)+i {
					failed.Add(1)
					t.Errorf("call %d of worker %d: sum %d, %v", i, w, r.Sum, err)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	before := attempts(c)
	servers[1].cmd.Process.Signal(syscall.SIGKILL)
	killedAt := time.Now()
	time.Sleep(700 * time.Millisecond)
	mid := attempts(c)
	time.Sleep(300 * time.Millisecond)
	after := attempts(c)

	// With self-announcing servers the killed one's lease expires.
	left := false
	if self {
		for time.Since(killedAt) < ttl+3*time.Second && !left {
			left = true
			for _, s := range c.Instances() {
				left = left && s.ID != "s1"
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !left {
			t.Errorf("killed server still registered %v after SIGKILL (TTL %v): %+v", time.Since(killedAt), ttl, c.Instances())
		}
	}
	close(stop)
	wg.Wait()

	t.Logf("%d calls, %d failed; attempts per instance before the kill %v, 0.7s after %v, 1s after %v; stats %+v",
		calls.Load(), failed.Load(), before, mid, after, c.Stats())
	if failed.Load() > 0 {
		t.Fatalf("%d of %d idempotent calls lost", failed.Load(), calls.Load())
	}
	if calls.Load() < 100 {
		t.Fatalf("only %d calls made", calls.Load())
	}
	for _, id := range []string{"s0", "s2"} {
		if after[id] <= before[id] {
			t.Errorf("survivor %s took no calls after the kill", id)
		}
	}
	if !left && after["s1"] != mid["s1"] {
		t.Errorf("killed instance still receiving attempts: %d then %d", mid["s1"], after["s1"])
	}
}
