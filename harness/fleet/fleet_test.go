package fleet_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
      concurrency: [64]
`

// TestLoopbackFleet runs a cell on three workers in this process and
// checks the split, the merge and the start spread.
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
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, name := range []string{"w1", "w2", "w3"} {
		wg.Go(func() {
			errs[i] = fleet.Work(ctx, e, fleet.WorkerConfig{Name: name, TTL: 3 * time.Second, Runner: runner.Options{AdminToken: token}})
		})
	}
	co, err := fleet.Coordinate(ctx, e, fleet.CoordinatorConfig{Expect: 3, JoinTimeout: 10 * time.Second, TTL: 3 * time.Second, Server: addr, Spec: sp})
	if err != nil {
		t.Fatal(err)
	}
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
	if len(run.Manifest.Fleet.Workers) != 3 {
		t.Fatalf("manifest fleet %+v", run.Manifest.Fleet)
	}
	c := run.Cells[0]
	if c.Status != results.StatusOK || len(c.Reps) != 2 {
		t.Fatalf("cell %s: %s %v", c.Key, c.Status, c.Failures)
	}
	for _, rr := range c.Reps {
		f, fl := rr.Figures, rr.Fleet
		var calls, ok int64
		var conc []int
		for i, l := range f.Loads {
			calls += l.Calls
			ok += l.OK
			conc = append(conc, fl.Shares[i].Concurrency)
		}
		if len(f.Loads) != 3 || calls != f.Calls || ok != f.OK || f.Latency.Count != ok || f.Calls == 0 {
			t.Errorf("rep %d: merged %d calls, the workers' sum %d over %d loads", rr.Rep+1, f.Calls, calls, len(f.Loads))
		}
		if conc[0] != 21 || conc[1] != 21 || conc[2] != 22 {
			t.Errorf("rep %d: shares %v, want 21 21 22", rr.Rep+1, conc)
		}
		if fl.StartSpreadNs <= 0 || fl.StartSpreadNs > int64(time.Second) || f.Server == nil || f.PerCall.ServerCPUNs <= 0 {
			t.Errorf("rep %d: start spread %v, server %+v", rr.Rep+1, time.Duration(fl.StartSpreadNs), f.Server)
		}
		t.Logf("rep %d: %d calls, %.0f/s, p99 %v; start spread %v, coordination %v, server %.0f ns CPU/call",
			rr.Rep+1, f.Calls, f.Throughput, time.Duration(f.Latency.P99), time.Duration(fl.StartSpreadNs), time.Duration(fl.CoordinationNs), f.PerCall.ServerCPUNs)
	}
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
