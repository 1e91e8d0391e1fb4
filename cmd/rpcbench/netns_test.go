package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twoHosts is a server host and a client host: two network namespaces
// joined by a veth pair, so calls between them cross the kernel's network
// stack as between two machines.
type twoHosts struct {
	srv, cli         string // namespace names
	srvDev, cliDev   string // their ends of the veth pair
	srvAddr, cliAddr string
}

// newTwoHosts creates the namespaces and the link, and removes them when
// the test ends. It skips the test where namespaces cannot be made.
func newTwoHosts(t *testing.T) *twoHosts {
	t.Helper()
	needNetns(t, "two hosts over a veth pair")
	pid := os.Getpid()
	h := &twoHosts{
		srv: fmt.Sprintf("rpcb-srv-%d", pid), cli: fmt.Sprintf("rpcb-cli-%d", pid),
		srvDev: fmt.Sprintf("rpcbs%d", pid), cliDev: fmt.Sprintf("rpcbc%d", pid),
		srvAddr: "10.213.0.1", cliAddr: "10.213.0.2",
	}
	if out, err := exec.Command("ip", "netns", "add", h.srv).CombinedOutput(); err != nil {
		t.Skipf("ip netns add fails here (%v: %s): cannot test two hosts", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		// Deleting a namespace kills its end of the veth pair, and so both;
		// a pair not yet moved is deleted by name.
		exec.Command("ip", "link", "del", h.srvDev).Run()
		exec.Command("ip", "netns", "del", h.srv).Run()
		exec.Command("ip", "netns", "del", h.cli).Run()
	})
	h.ip(t, "netns", "add", h.cli)
	h.ip(t, "link", "add", h.srvDev, "type", "veth", "peer", "name", h.cliDev)
	for _, side := range []struct{ ns, dev, addr string }{{h.srv, h.srvDev, h.srvAddr}, {h.cli, h.cliDev, h.cliAddr}} {
		h.ip(t, "link", "set", side.dev, "netns", side.ns)
		h.ip(t, "-n", side.ns, "addr", "add", side.addr+"/24", "dev", side.dev)
		h.ip(t, "-n", side.ns, "link", "set", side.dev, "up")
		h.ip(t, "-n", side.ns, "link", "set", "lo", "up")
	}
	return h
}

func (h *twoHosts) ip(t *testing.T, args ...string) { t.Helper(); ip(t, args...) }

// needNetns skips the test unless network namespaces can be made here;
// what says what the test would have shown.
func needNetns(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: run as root to test " + what)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no 'ip' command (Debian: apt-get install iproute2)")
	}
}

// ip runs the ip command and fails the test if it fails.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// in is the command prefix that runs a program inside namespace ns.
func in(ns string) []string { return []string{"ip", "netns", "exec", ns} }

// TestTwoHosts runs 'rpcbench serve' on one namespace and 'rpcbench bench
// --server' on the other, then caps the link with a token bucket and
// checks that the measured throughput meets the cap.
func TestTwoHosts(t *testing.T) {
	h := newTwoHosts(t)
	addr := serve(t, in(h.srv), "--transport", "tcp", "--addr", h.srvAddr+":7000")
	if addr != h.srvAddr+":7000" {
		t.Fatalf("server on %s", addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	tmp := t.TempDir()
	bench := func(dir, payload, conc, duration string) {
		rpcbench(t, ctx, in(h.cli), "bench", "--server", addr, "--admin-token", adminToken, "--out", dir, "--progress", "never",
			"--transport", "tcp", "--codec", "proto", "--payload", payload, "--concurrency", conc, "--warmup", "300ms", "--duration", duration)
	}

	free := filepath.Join(tmp, "free")
	bench(free, "Small", "4", "1s")
	run, f := onlyFigures(t, free)
	m := run.Manifest
	if m.ServerMode != "remote" || m.ServerHost == nil || m.ServerHost.Addr != addr || m.ServerHost.Hostname == "" || m.ServerHost.Cores < 1 ||
		m.Hostname == "" || m.CPUModel == "" || m.Kernel == "" {
		t.Fatalf("manifest: mode %q, client %s, server %+v", m.ServerMode, m.ClientHost(), m.ServerHost)
	}
	checkServerCosts(t, f)
	checkServerBytes(t, f)
	if f.Throughput <= 0 {
		t.Fatalf("throughput %v", f.Throughput)
	}
	t.Logf("across the veth pair: %.0f calls/s, p50 %v, p99 %v; server %.0f ns CPU and %.1f allocations per call, %.0f/%.0f bytes in/out",
		f.Throughput, time.Duration(f.Latency.P50), time.Duration(f.Latency.P99), f.PerCall.ServerCPUNs, f.PerCall.ServerAllocs, f.PerCall.ServerWireIn, f.PerCall.ServerWireOut)

	// A token bucket on the server's side caps the reply direction.
	const capBits = 10e6
	tbf := []string{"tc", "qdisc", "add", "dev", h.srvDev, "root", "tbf", "rate", "10mbit", "burst", "32kbit", "latency", "50ms"}
	if out, err := exec.Command("ip", append([]string{"netns", "exec", h.srv}, tbf...)...).CombinedOutput(); err != nil {
		t.Skipf("no tbf queueing discipline here (%v: %s): cannot cap the link", err, strings.TrimSpace(string(out)))
	}
	capped := filepath.Join(tmp, "capped")
	bench(capped, "Bytes(65536)", "4", "3s")
	_, f = onlyFigures(t, capped)
	checkServerCosts(t, f)
	// Payload bytes per second; the cap counts Ethernet, IP and TCP
	// headers too, and the server's acknowledgements of the requests.
	got := f.Throughput * f.PerCall.WireIn * 8
	t.Logf("tbf rate 10mbit on the server's link: %.0f calls/s × %.0f reply bytes = %.2f Mbit/s of payload (%.0f%% of the cap), p50 %v",
		f.Throughput, f.PerCall.WireIn, got/1e6, 100*got/capBits, time.Duration(f.Latency.P50))
	if got < 0.85*capBits || got > 1.02*capBits {
		t.Errorf("%.2f Mbit/s through a 10 Mbit/s bucket: want within 15%% below the cap", got/1e6)
	}
}
