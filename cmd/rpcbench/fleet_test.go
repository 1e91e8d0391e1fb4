package main_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"rpcbench/harness/results"
	"rpcbench/internal/etcdtest"
)

// Lease TTLs in these tests: fleetTTL for the processes that live, long
// enough for a loaded machine (make test under -race) to keep their
// leases alive; killTTL, shorter, for the one a test kills, so that its
// death is noticed soon.
const (
	fleetTTL = "5s"
	killTTL  = "2s"
)

// fleetWorker is a running 'rpcbench worker' process.
type fleetWorker struct {
	name string
	cmd  *exec.Cmd
	out  *strings.Builder
	exit chan error
}

// startWorkers starts 'rpcbench worker' processes named names (each after
// its prefix in prefixes, if any) joined at url; they are killed when the
// test ends.
func startWorkers(t *testing.T, url string, names []string, prefixes [][]string, extra ...string) []*fleetWorker {
	t.Helper()
	var ws []*fleetWorker
	for i, name := range names {
		var prefix []string
		if i < len(prefixes) {
			prefix = prefixes[i]
		}
		args := append(append(prefix, rpcbenchBinary(t), "worker", "--coordinator", url, "--name", name, "--admin-token", adminToken, "--ttl", fleetTTL), extra...)
		w := &fleetWorker{name: name, cmd: exec.Command(args[0], args[1:]...), out: &strings.Builder{}, exit: make(chan error, 1)}
		w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { w.exit <- w.cmd.Wait() }()
		t.Cleanup(func() {
			w.cmd.Process.Kill()
			if t.Failed() {
				t.Logf("worker %s:\n%s", w.name, w.out)
			}
		})
		ws = append(ws, w)
	}
	return ws
}

// wait returns the worker's exit error, or fails the test after d.
func (w *fleetWorker) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-w.exit:
		return err
	case <-time.After(d):
		t.Fatalf("worker %s still running %v later", w.name, d)
		return nil
	}
}

// fleetURL starts etcd and returns a fleet URL on it with its own prefix.
func fleetURL(t *testing.T, prefix string) (url string, etcd *clientv3.Client) {
	t.Helper()
	client := etcdtest.Start(t)
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{client}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return "etcd://" + strings.TrimPrefix(client, "http://") + "/" + prefix, c
}

// awaitStart waits for the first start instant published under prefix
// and returns it.
func awaitStart(t *testing.T, ctx context.Context, c *clientv3.Client, prefix string) time.Time {
	t.Helper()
	for wr := range c.Watch(ctx, "/"+prefix+"/start/", clientv3.WithPrefix()) {
		for _, ev := range wr.Events {
			var st struct {
				At int64 `json:"at_unix_ns"`
			}
			if ev.Type == clientv3.EventTypePut && json.Unmarshal(ev.Kv.Value, &st) == nil && st.At != 0 {
				return time.Unix(0, st.At)
			}
		}
	}
	t.Fatal("no start published")
	return time.Time{}
}

// fleetBench is 'bench --workers' on an ad-hoc closed-loop cell.
func fleetBench(url, addr, out, conc, duration, reps string) []string {
	return []string{"bench", "--server", addr, "--admin-token", adminToken, "--workers", url, "--expect", "3", "--ttl", fleetTTL, "--join-timeout", "20s",
		"--out", out, "--progress", "never", "--transport", "tcp", "--codec", "proto", "--payload", "Small",
		"--concurrency", conc, "--warmup", "200ms", "--duration", duration, "--reps", reps}
}

// TestFleet runs a cell on three worker processes and checks the merged
// figures against theirs, the split and the start spread.
func TestFleet(t *testing.T) {
	url, _ := fleetURL(t, "fleet")
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	ws := startWorkers(t, url, []string{"w1", "w2", "w3"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	rpcbench(t, ctx, nil, fleetBench(url, addr, dir, "64", "1s", "1")...)
	for _, w := range ws {
		if err := w.wait(t, 10*time.Second); err != nil {
			t.Errorf("worker %s: %v\n%s", w.name, err, w.out)
		}
	}
	checkSchema(t, resultsSchema(t), filepath.Join(dir, "results.json"))
	run, f := onlyFigures(t, dir)
	checkFleetRep(t, run, run.Cells[0].Reps[0], 3)
	checkServerCosts(t, f)
}

// checkFleetRep checks a merged repetition of n workers.
func checkFleetRep(t *testing.T, run *results.Run, rr *results.Rep, n int) {
	t.Helper()
	f, fl := rr.Figures, rr.Fleet
	if f == nil || fl == nil || len(f.Loads) != n || len(fl.Shares) != n || run.Manifest.Fleet == nil {
		t.Fatalf("rep %d: figures %v, fleet %+v, manifest %+v", rr.Rep+1, f != nil, fl, run.Manifest.Fleet)
	}
	var calls, ok int64
	conc := 0
	for i, l := range f.Loads {
		calls, ok, conc = calls+l.Calls, ok+l.OK, conc+fl.Shares[i].Concurrency
		if l.Calls == 0 {
			t.Errorf("worker %s made no calls", fl.Shares[i].Worker)
		}
	}
	if calls != f.Calls || ok != f.OK || f.Latency.Count != ok || conc != run.Cells[0].Params.Concurrency {
		t.Errorf("rep %d: merged %d calls (%d ok), the workers' %d (%d ok); concurrency %d of %d", rr.Rep+1, f.Calls, f.OK, calls, ok, conc, run.Cells[0].Params.Concurrency)
	}
	if fl.StartSpreadNs <= 0 || fl.StartSpreadNs > int64(500*time.Millisecond) || fl.CoordinationNs <= 0 {
		t.Errorf("rep %d: start spread %v, coordination %v", rr.Rep+1, time.Duration(fl.StartSpreadNs), time.Duration(fl.CoordinationNs))
	}
	t.Logf("rep %d on %d workers %+v: %d calls, %.0f/s, p99 %v; start spread %v, coordination %v",
		rr.Rep+1, n, fl.Shares, f.Calls, f.Throughput, time.Duration(f.Latency.P99), time.Duration(fl.StartSpreadNs), time.Duration(fl.CoordinationNs))
}

// TestFleetWorkerKilled kills a worker in the middle of a window: that
// repetition is degraded and names it, the next runs on the others.
func TestFleetWorkerKilled(t *testing.T) {
	url, etcd := fleetURL(t, "killed")
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	startWorkers(t, url, []string{"w1", "w3"}, nil)
	victim := startWorkers(t, url, []string{"w2"}, nil, "--ttl", killTTL)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() {
		at := awaitStart(t, ctx, etcd, "killed")
		time.Sleep(time.Until(at) + 500*time.Millisecond)
		victim.cmd.Process.Signal(syscall.SIGKILL)
	}()
	dir := filepath.Join(t.TempDir(), "run")
	rpcbench(t, ctx, nil, fleetBench(url, addr, dir, "6", "2s", "2")...)
	checkSchema(t, resultsSchema(t), filepath.Join(dir, "results.json"))
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := run.Cells[0]
	if c.Status != results.StatusDegraded || len(c.Reps) != 2 {
		t.Fatalf("cell %s %s %v", c.Key, c.Status, c.Failures)
	}
	d := c.Reps[0].Degraded
	if c.Reps[0].Status != results.StatusDegraded || c.Reps[0].Figures != nil || d == nil || d.Worker != "w2" || d.At.IsZero() ||
		len(d.Partial) != 2 || d.Partial["w1"] == nil || !strings.Contains(c.Reps[0].Error, "worker w2") {
		t.Fatalf("rep 1: %s %q %+v", c.Reps[0].Status, c.Reps[0].Error, d)
	}
	t.Logf("rep 1: %s", c.Reps[0].Error)
	checkFleetRep(t, run, c.Reps[1], 2)
}

// TestFleetCoordinatorKilled kills the coordinator in the middle of a
// window: the workers stop and exit within a few seconds.
func TestFleetCoordinatorKilled(t *testing.T) {
	url, etcd := fleetURL(t, "orphans")
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	ws := startWorkers(t, url, []string{"w1", "w2", "w3"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(fleetBench(url, addr, filepath.Join(t.TempDir(), "run"), "6", "20s", "1"), "--ttl", killTTL)
	bench := exec.CommandContext(ctx, rpcbenchBinary(t), args...)
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	at := awaitStart(t, ctx, etcd, "orphans")
	time.Sleep(time.Until(at) + 300*time.Millisecond)
	bench.Process.Signal(syscall.SIGKILL)
	bench.Wait()
	killed := time.Now()
	for _, w := range ws {
		err := w.wait(t, 8*time.Second)
		if err == nil || !strings.Contains(w.out.String(), "coordinator is gone") {
			t.Errorf("worker %s: exit %v\n%s", w.name, err, w.out)
		}
	}
	t.Logf("workers gone %v after the coordinator", time.Since(killed).Round(time.Millisecond))
}

// TestFleetUsage: fleet flags out of place are usage errors, and missing
// workers end the wait with a message that says how to start them.
func TestFleetUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--expect", "3"}, "--expect concerns a fleet of workers"},
		{[]string{"bench", "--workers", "etcd://127.0.0.1:1/x", "--expect", "3"}, "--workers needs --server"},
		{[]string{"bench", "--workers", "etcd://127.0.0.1:1/x", "--server", "127.0.0.1:1"}, "needs --expect"},
		{[]string{"bench", "--workers", "http://127.0.0.1:1/x", "--server", "127.0.0.1:1", "--expect", "1"}, "want etcd://"},
		{[]string{"worker"}, "want --coordinator"},
		{[]string{"worker", "--coordinator", "etcd://a:1/x", "--ttl", "10ms"}, "want at least 1s"},
	} {
		_, errOut, code := runBinary(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	url, _ := fleetURL(t, "lonely")
	addr := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	args := fleetBench(url, addr, filepath.Join(t.TempDir(), "run"), "2", "1s", "1")
	args = append(args, "--expect", "2", "--join-timeout", "1s")
	_, errOut, code := runBinary(t, args...)
	if code != 1 || !strings.Contains(errOut, "0 of 2 workers joined") || !strings.Contains(errOut, "rpcbench worker --coordinator "+url) {
		t.Errorf("no workers: exit %d, stderr %q", code, errOut)
	}
}
