package main_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench/harness/results"
)

// TestLoadsMerged starts one server and two load processes against it at
// once, merges their runs, and checks the merged figures against theirs.
func TestLoadsMerged(t *testing.T) {
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dirs := []string{filepath.Join(tmp, "load1"), filepath.Join(tmp, "load2")}
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Go(func() {
			rpcbench(t, ctx, nil, "bench", "--server", addr, "--admin-token", adminToken, "--load-id", string(rune('1'+i)), "--out", dir, "--progress", "never",
				"--transport", "tcp", "--codec", "proto", "--payload", "Small", "--concurrency", "4", "--warmup", "200ms", "--duration", "1s")
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	merged := filepath.Join(tmp, "merged")
	rpcbench(t, ctx, nil, "merge", "--out", merged, dirs[0], dirs[1])

	var loads []*results.Figures
	for _, d := range dirs {
		run, f := onlyFigures(t, d)
		if run.Manifest.ServerMode != "remote" || run.Manifest.ServerHost == nil {
			t.Errorf("%s: manifest %q %+v", d, run.Manifest.ServerMode, run.Manifest.ServerHost)
		}
		checkServerCosts(t, f)
		loads = append(loads, f)
	}
	run, m := onlyFigures(t, merged)
	a, b := loads[0], loads[1]
	t.Logf("load 1: %d calls, %.0f/s, p99 %v; load 2: %d calls, %.0f/s, p99 %v; merged: %d calls, %.0f/s, p99 %v; server CPU/call %.0f ns (load 1 alone %.0f ns)",
		a.Calls, a.Throughput, time.Duration(a.Latency.P99), b.Calls, b.Throughput, time.Duration(b.Latency.P99),
		m.Calls, m.Throughput, time.Duration(m.Latency.P99), m.PerCall.ServerCPUNs, a.PerCall.ServerCPUNs)
	if m.Calls != a.Calls+b.Calls || m.OK != a.OK+b.OK || m.Latency.Count != a.Latency.Count+b.Latency.Count {
		t.Errorf("merged %d calls (%d in the histogram), loads %d + %d", m.Calls, m.Latency.Count, a.Calls, b.Calls)
	}
	if lo, hi := min(a.Latency.P99, b.Latency.P99), max(a.Latency.P99, b.Latency.P99); m.Latency.P99 < lo || m.Latency.P99 > hi {
		t.Errorf("merged p99 %d outside the loads' %d..%d", m.Latency.P99, lo, hi)
	}
	if d := m.Throughput - (a.Throughput + b.Throughput); d > 1e-6 || d < -1e-6 {
		t.Errorf("merged throughput %.1f, loads %.1f + %.1f", m.Throughput, a.Throughput, b.Throughput)
	}
	// The server's window is load 1's, shared by both loads' calls.
	if m.Server == nil || *m.Server != *a.Server || m.PerCall.ServerCPUNs >= a.PerCall.ServerCPUNs {
		t.Errorf("merged server costs %+v (per call %.0f ns), load 1's %+v (%.0f ns)", m.Server, m.PerCall.ServerCPUNs, a.Server, a.PerCall.ServerCPUNs)
	}
	if len(m.Loads) != 2 || len(run.Manifest.Loads) != 2 || run.Manifest.Loads[1].LoadID != 2 || !strings.HasSuffix(run.RunID, "-merged") {
		t.Errorf("merged run %s: %d loads in figures, manifest loads %+v", run.RunID, len(m.Loads), run.Manifest.Loads)
	}
	report, err := exec.Command("cat", filepath.Join(merged, "report.md")).Output()
	if err != nil || !strings.Contains(string(report), "| load 2 |") || !strings.Contains(string(report), "| server host |") {
		t.Errorf("report.md lacks the hosts: %v", err)
	}

	// A run merged with itself is not two loads.
	out, err := exec.CommandContext(ctx, rpcbenchBinary(t), "merge", "--out", filepath.Join(tmp, "bad"), dirs[0], dirs[0]).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "given twice") {
		t.Errorf("merging a run with itself: %v\n%s", err, out)
	}
}
