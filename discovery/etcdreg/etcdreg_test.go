package etcdreg_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"rpcbench/discovery"
	"rpcbench/discovery/etcdreg"
	"rpcbench/discovery/registrytest"
	"rpcbench/internal/testenv"
)

// Goroutines started by package init are not leaks.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

// startEtcd runs a real single-node etcd (Debian's etcd-server, or the
// binary named by $ETCD_BIN) on free loopback ports in a temporary
// directory, and returns its client URL. Without an etcd binary the test
// is skipped, or fails in CI (package internal/testenv): install it with
// `apt-get install etcd-server`.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ETCD_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("etcd"); err != nil {
			testenv.Missing(t, "etcd", "no etcd binary on PATH and $ETCD_BIN unset: apt-get install etcd-server (scripts/setup.sh does)")
		}
	}
	client, peer := freeURL(t), freeURL(t)
	dir := t.TempDir()
	cmd := exec.Command(bin,
		"--name", "rpcbench-test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "rpcbench-test="+peer,
		// Short raft ticks let etcd accept one-second lease TTLs.
		"--heartbeat-interval", "10", "--election-timeout", "100",
		"--log-level", "error", "--logger", "zap",
	)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("etcd output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r, err := etcdreg.Dial(ctx, []string{client}, "")
		cancel()
		if err == nil {
			r.Close()
			return client
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd at %s not ready: %v\n%s", client, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

func TestConformance(t *testing.T) {
	url := startEtcd(t)
	registrytest.Run(t, func(t *testing.T) discovery.Registry {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := etcdreg.Dial(ctx, []string{url}, fmt.Sprintf("/test/%s/", t.Name()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}, registrytest.Options{TTL: time.Second, ExpirySlack: 2500 * time.Millisecond})
}

func TestOpenByURL(t *testing.T) {
	url := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := discovery.Open(ctx, "etcd://"+strings.TrimPrefix(url, "http://")+"/open-test")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	a, err := discovery.Announce(ctx, reg, time.Second, discovery.Instance{Service: "Arith", Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	// A second client with the same prefix sees it.
	other, err := etcdreg.Dial(ctx, []string{url}, "/open-test/")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, err := other.Resolve(ctx, "Arith"); err != nil || len(got) != 1 {
		t.Fatalf("Resolve: %v, %v", got, err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Resolve(ctx, "Arith"); err != nil || len(got) != 0 {
		t.Fatalf("Resolve after Stop: %v, %v", got, err)
	}
}
