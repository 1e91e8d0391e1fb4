// Package etcdtest starts a throwaway single-node etcd for tests: Debian's
// etcd-server (or the binary named by $ETCD_BIN) on free loopback ports, in
// a temporary directory, killed when the test ends. Without an etcd binary
// the test is skipped, or fails in CI (package internal/testenv).
package etcdtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"rpcbench/internal/testenv"
)

// Start runs etcd on loopback and returns its client URL
// (http://127.0.0.1:PORT). Its raft ticks are short, so that it accepts
// one-second lease TTLs.
func Start(t testing.TB) string {
	t.Helper()
	return StartOn(t, "127.0.0.1")
}

// StartOn is Start on another of this host's addresses.
func StartOn(t testing.TB, host string) string {
	t.Helper()
	bin := os.Getenv("ETCD_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("etcd"); err != nil {
			testenv.Missing(t, "etcd", "no etcd binary on PATH and $ETCD_BIN unset: apt-get install etcd-server (scripts/setup.sh does)")
		}
	}
	client, peer := freeURL(t, host), freeURL(t, host)
	dir := dataDir(t)
	cmd := exec.Command(bin,
		"--name", "rpcbench-test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "rpcbench-test="+peer,
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
		if err := ping(client); err == nil {
			return client
		} else if time.Now().After(deadline) {
			t.Fatalf("etcd at %s not ready: %v\n%s", client, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ping(url string) error {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Get(ctx, "/rpcbench/ping", clientv3.WithCountOnly())
	return err
}

// dataDir is a temporary directory, in memory where the host has
// /dev/shm: a loaded test machine's disk can hold etcd's fsyncs (and so
// every request) for seconds.
func dataDir(t testing.TB) string {
	dir, err := os.MkdirTemp("/dev/shm", "etcdtest-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func freeURL(t testing.TB, host string) string {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}
