package fleet_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rpcbench/harness/fleet"
	"rpcbench/harness/remote/remotetest"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
	"rpcbench/internal/etcdtest"
)

const token = "fleet-test-token"

const testSpec = `name: fleet
repetitions: 2
warmup: 100ms
duration: 400ms
pin: off
generator_ceiling: false
groups:
  - name: g
    dimensions:
      transport: [tcp]
      codec: [proto]
      payload: [Small]
      concurrency: [9]
  - name: open
    dimensions:
      transport: [tcp]
      codec: [proto]
      payload: [Small]
      concurrency: [6]
      load: ["open@1500"]
`

// TestLoopbackFleet runs two cells on workers in this process, a third
// worker joining during the first cell, and checks the split, the merge
// and the start spread.
func TestLoopbackFleet(t *testing.T) {
	url := etcdtest.Start(t)
	addr := remotetest.Serve(t, "tcp", "127.0.0.1:0", token)
	e, err := fleet.ParseURL("etcd://" + strings.TrimPrefix(url, "http://") + "/loopback")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse([]byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	work := func(i int) {
		wg.Go(func() {
			errs[i] = fleet.Work(ctx, e, fleet.WorkerConfig{Name: fmt.Sprintf("w%d", i+1), TTL: 5 * time.Second, Runner: runner.Options{AdminToken: token}})
		})
	}
	work(0)
	work(1)
	co, err := fleet.Coordinate(ctx, e, fleet.CoordinatorConfig{Expect: 2, JoinTimeout: 10 * time.Second, TTL: 5 * time.Second, Server: addr, Spec: sp})
	if err != nil {
		t.Fatal(err)
	}
	// The third worker joins once the first cell has started.
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	go func() {
		for range etcd.Watch(ctx, e.Prefix+"start/", clientv3.WithPrefix()) {
			work(2)
			return
		}
	}()
	run, _, err := runner.Run(ctx, runner.Options{Spec: sp, NoWrite: true, Server: addr, AdminToken: token, Fleet: co})
	co.Close()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i+1, err)
		}
	}
	if m := run.Manifest.Fleet; m == nil || len(m.Workers) != 3 || m.Workers[0].RTTNs <= 0 {
		t.Fatalf("manifest fleet %+v", run.Manifest.Fleet)
	}
	closed, open := run.Cells[0], run.Cells[1]
	if len(closed.Reps[0].Fleet.Shares) != 2 || len(open.Reps[1].Fleet.Shares) != 3 {
		t.Errorf("shares: first cell %+v, last %+v: want the late worker only in the later cells", closed.Reps[0].Fleet.Shares, open.Reps[1].Fleet.Shares)
	}
	for _, c := range run.Cells {
		// A pacer behind its schedule on a loaded machine still merges.
		if c.Status != results.StatusOK && c.Status != results.StatusBehind || len(c.Reps) != 2 {
			t.Fatalf("cell %s: %s %v", c.Key, c.Status, c.Failures)
		}
		for _, rr := range c.Reps {
			f, fl := rr.Figures, rr.Fleet
			var calls, ok int64
			conc, rate := 0, 0.0
			for i, l := range f.Loads {
				calls, ok = calls+l.Calls, ok+l.OK
				conc, rate = conc+fl.Shares[i].Concurrency, rate+fl.Shares[i].Rate
			}
			if len(f.Loads) != len(fl.Shares) || calls != f.Calls || ok != f.OK || f.Latency.Count != ok || f.Calls == 0 {
				t.Errorf("%s rep %d: merged %d calls, the workers' sum %d over %d loads", c.Key, rr.Rep+1, f.Calls, calls, len(f.Loads))
			}
			if c.Params.Load.Kind == "closed" && conc != 9 || c.Params.Load.Kind == "open" && (rate < 1499 || rate > 1501 || f.Open == nil || f.Open.TargetRate < 1499) {
				t.Errorf("%s rep %d: shares %+v", c.Key, rr.Rep+1, fl.Shares)
			}
			if fl.StartSpreadNs <= 0 || fl.StartSpreadNs > int64(time.Second) || f.Server == nil || f.PerCall.ServerCPUNs <= 0 {
				t.Errorf("%s rep %d: start spread %v, server %+v", c.Key, rr.Rep+1, time.Duration(fl.StartSpreadNs), f.Server)
			}
			t.Logf("%s rep %d on %d workers: %d calls, %.0f/s, p99 %v; start spread %v, coordination %v, server %.0f ns CPU/call", c.Params.Load,
				rr.Rep+1, len(fl.Shares), f.Calls, f.Throughput, time.Duration(f.Latency.P99), time.Duration(fl.StartSpreadNs), time.Duration(fl.CoordinationNs), f.PerCall.ServerCPUNs)
		}
	}
}

// TestStalledWorker: a worker that joins and then does nothing degrades
// the cell once the ready timeout has passed; the other worker's load is
// called off.
func TestStalledWorker(t *testing.T) {
	url := etcdtest.Start(t)
	addr := remotetest.Serve(t, "tcp", "127.0.0.1:0", token)
	e, err := fleet.ParseURL("etcd://" + strings.TrimPrefix(url, "http://") + "/stall")
	if err != nil {
		t.Fatal(err)
	}
	closedOnly, _, _ := strings.Cut(strings.Replace(testSpec, "repetitions: 2", "repetitions: 1", 1), "  - name: open")
	sp, err := spec.Parse([]byte(closedOnly))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	lease, err := etcd.Grant(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.KeepAlive(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.Put(ctx, e.Prefix+"workers/ghost", `{"name":"ghost","host":"nowhere","pid":1}`, clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		werr = fleet.Work(ctx, e, fleet.WorkerConfig{Name: "w1", TTL: 5 * time.Second, Runner: runner.Options{AdminToken: token}})
	})
	co, err := fleet.Coordinate(ctx, e, fleet.CoordinatorConfig{Expect: 2, JoinTimeout: 10 * time.Second, TTL: 5 * time.Second, ReadyTimeout: time.Second, Server: addr, Spec: sp})
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := runner.Run(ctx, runner.Options{Spec: sp, NoWrite: true, Server: addr, AdminToken: token, Fleet: co})
	co.Close()
	wg.Wait()
	if err != nil || werr != nil {
		t.Fatalf("run: %v; worker: %v", err, werr)
	}
	rr := run.Cells[0].Reps[0]
	if run.Cells[0].Status != results.StatusDegraded || rr.Degraded == nil || rr.Degraded.Worker != "ghost" || !strings.Contains(rr.Degraded.Reason, "stalled") || rr.Figures != nil {
		t.Fatalf("cell %s: %+v", run.Cells[0].Status, rr)
	}
	t.Logf("%s", rr.Error)
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"etcd://127.0.0.1:2379/x", "etcd://127.0.0.1:2379/x"},
		{"etcd://a:1,b:2", "etcd://a:1,b:2/rpcbench/fleet"},
		{"http://a:1/x", ""},
		{"etcd:///x", ""},
		{"etcd://a:1,/x", ""},
	} {
		e, err := fleet.ParseURL(tc.in)
		if got := e.String(); (err == nil) != (tc.want != "") || err == nil && got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	f.Add("etcd://127.0.0.1:2379/x")
	f.Add("etcd://a:1,b:2")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := fleet.ParseURL(s)
		if err != nil {
			return
		}
		if len(e.Endpoints) == 0 || !strings.HasSuffix(e.Prefix, "/") {
			t.Fatalf("%q: %+v", s, e)
		}
	})
}
