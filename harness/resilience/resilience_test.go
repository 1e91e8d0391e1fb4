package resilience_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/report"
	"rpcbench/harness/resilience"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
	"rpcbench/internal/testbin"
)

// serverBinary is the rpcbench binary: its bench-server is every instance.
func serverBinary(t *testing.T) string { return testbin.Rpcbench(t) }

func TestMain(m *testing.M) { testbin.Main(m) }

const killRestart = `
scenarios:
  - name: kill-restart
    instances: 3
    load: open@600
    concurrency: 8
    warmup: 300ms
    duration: 3500ms
    bucket: 100ms
    settle: 300ms
    registry_ttl: 500ms
    balancers: [round_robin]
    retries: [none, idempotent]
    faults:
      - {at: 1s, action: kill, instance: 1}
      - {at: 2s, action: restart, instance: 1}
      - {at: 1500ms, action: slow, instance: 2, delay: 2ms, until: 2500ms}
`

// Three real server processes behind the embedded registry; instance 1 is
// SIGKILLed at 1s and restarted at 2s (instance 2 slowed between) while an open-loop load runs through
// the cluster client. Every call is accounted for; instance 1 answers
// nothing while it is down and answers again after its restart; with
// idempotent retries the scenario gets error-free again and few calls
// fail; and the reports show the section and its charts.
func TestKillRestart(t *testing.T) {
	bin := serverBinary(t)
	sp, err := spec.Parse([]byte(killRestart))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	sc := resilience.Run(ctx, sp.Scenarios[0], resilience.Options{ServerBinary: bin, ServerArgs: runner.BenchServerArgs, Seed: 1, Log: &log})
	t.Log(log.String())
	if len(sc.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(sc.Runs))
	}
	for _, r := range sc.Runs {
		t.Run(r.Retries, func(t *testing.T) {
			if r.Status != results.StatusOK {
				t.Fatalf("run failed: %s", r.Error)
			}
			t.Logf("%d issued, %d ok, %d failed %v; faults %+v; served %v", r.Issued, r.OK, r.Failed, r.FailedByCode, r.Faults, r.Served)
			if r.Issued < 1000 || r.OK+r.Failed != r.Issued {
				t.Fatalf("accounting: %d ok + %d failed of %d issued", r.OK, r.Failed, r.Issued)
			}
			var sum int64
			for b := range r.OKs {
				sum += r.OKs[b] + r.Fails[b]
			}
			if sum != r.Issued {
				t.Errorf("buckets hold %d calls of %d", sum, r.Issued)
			}
			for _, f := range r.Faults {
				if f.Error != "" || f.AppliedNs < 0 {
					t.Fatalf("fault not applied: %+v", f)
				}
			}
			// Faults are in time order: kill, slow, restart.
			kill, restart := r.Faults[0], r.Faults[2]
			bucket := time.Duration(r.BucketNs)
			served := r.Served[0]
			total := func(from, to int) (n int64) {
				for _, v := range served[from:to] {
					n += v
				}
				return n
			}
			killB := int(time.Duration(kill.AppliedNs) / bucket)
			// The restart starts its process at its scheduled time; the
			// instance can answer only after that.
			restartB := int(restart.At.D() / bucket)
			if total(0, killB) == 0 {
				t.Errorf("instance 1 answered nothing before its kill")
			}
			if n := total(killB+1, restartB); n != 0 {
				t.Errorf("instance 1 answered %d calls while killed (buckets %d..%d): %v", n, killB+1, restartB-1, served)
			}
			if total(restartB, len(served)) == 0 {
				t.Errorf("instance 1 answered nothing after its restart: %v", served)
			}
			for i := 1; i < len(r.Served); i++ {
				var n int64
				for _, v := range r.Served[i][killB+1 : restartB] {
					n += v
				}
				if n == 0 {
					t.Errorf("survivor %s answered nothing during the kill", r.Instances[i])
				}
			}
			if r.Before.OK == 0 || r.During.OK == 0 || r.After == nil || r.After.OK == 0 {
				t.Errorf("phases: before %+v during %+v after %+v", r.Before, r.During, r.After)
			}
			if r.Retries == spec.RetryIdempotent {
				if kill.ErrorFreeAfterNs < 0 {
					t.Errorf("with retries, not error-free again after the kill: failed per bucket %v", r.Fails)
				}
				if r.Failed*20 > r.Issued {
					t.Errorf("with retries, %d of %d calls failed", r.Failed, r.Issued)
				}
			}
		})
	}

	run := &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, RunID: "test",
		Manifest: results.Manifest{SpecName: "res", Spec: sp}, Scenarios: []*results.Scenario{sc}}
	dir := t.TempDir()
	if err := report.WriteAll(dir, run); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"## Resilience", "### kill-restart", "| round_robin | none |", "| round_robin | idempotent |", "kill i1 @1s", "| round_robin | none | i1 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if n := strings.Count(string(html), `class="title">Traffic per instance — kill-restart`); n != 2 {
		t.Errorf("report.html has %d traffic charts, want 2", n)
	}
	if !strings.Contains(string(html), `data-charts-expected="2"`) {
		t.Errorf("report.html does not expect its 2 charts")
	}
}
