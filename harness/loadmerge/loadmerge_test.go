package loadmerge_test

import (
	"strings"
	"testing"

	"rpcbench/cost"
	"rpcbench/harness/loadmerge"
	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// loadRun is a one-cell run of a load process that recorded latencies
// (ns) against server pid 7 on host "srv".
func loadRun(t *testing.T, id int, latencies ...int64) *results.Run {
	t.Helper()
	sp, err := spec.Parse([]byte("name: m\ndimensions:\n  transport: [tcp]\n  codec: [proto]\n  payload: [Small]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := record.New()
	for _, v := range latencies {
		h.Record(v)
	}
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(latencies))
	f := &results.Figures{Calls: n, OK: n, ElapsedNs: 1e9, StartedUnixNs: 1e18, Throughput: float64(n), Latency: h.Summary(), Hist: enc,
		Client: cost.Delta{CPUUserNs: 1000 * n}, Server: &cost.Delta{CPUUserNs: 3000}}
	f.SetPerCall()
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	pc := plan.Cells[0]
	return &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, RunID: "r-m-load" + string(rune('0'+id)),
		Manifest: results.Manifest{Spec: sp, LoadID: id, ServerMode: "remote", ServerHost: &results.ServerHost{Host: cost.Host{Hostname: "srv"}, PID: 7}},
		Cells:    []*results.Cell{{Key: pc.Key, Params: pc, Status: results.StatusOK, Reps: []*results.Rep{{Status: results.StatusOK, Figures: f}}}}}
}

func TestMerge(t *testing.T) {
	a, b := loadRun(t, 1, 100, 200, 300), loadRun(t, 2, 1000, 2000)
	run, err := loadmerge.Merge([]*results.Run{a, b}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	c := run.Cells[0]
	f := c.Reps[0].Figures
	if f.Calls != 5 || f.Latency.Count != 5 || f.Latency.Min != 100 || f.Latency.Max < 2000 || f.Throughput != 5 || len(f.Loads) != 2 {
		t.Errorf("merged figures %+v", f)
	}
	// Client CPU summed over all calls; server CPU counted once.
	if f.PerCall.ClientCPUNs != 1000 || f.PerCall.ServerCPUNs != 600 {
		t.Errorf("per call %+v", f.PerCall)
	}
	if run.RunID != "r-m-merged" || len(run.Manifest.Loads) != 2 || run.Manifest.Loads[1].Dir != "b" || c.Merged == nil || c.Merged.Latency.Count != 5 {
		t.Errorf("run %s, loads %+v, merged %+v", run.RunID, run.Manifest.Loads, c.Merged)
	}
}

func TestMergeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(b *results.Run)
		want  string
	}{
		{"own servers", func(b *results.Run) { b.Manifest.ServerHost = nil }, "started its own servers"},
		{"other server", func(b *results.Run) { b.Manifest.ServerHost.PID = 8 }, "not one server"},
		{"same run", func(b *results.Run) { b.RunID = "r-m-load1" }, "given twice"},
		{"other spec", func(b *results.Run) { b.Manifest.Spec.Repetitions = 9 }, "different specs"},
		{"other cells", func(b *results.Run) { b.Cells[0].Key += "x" }, "cell 1 is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := loadRun(t, 1, 100), loadRun(t, 2, 100)
			tc.spoil(b)
			if _, err := loadmerge.Merge([]*results.Run{a, b}, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := loadmerge.Merge([]*results.Run{loadRun(t, 1, 100)}, nil); err == nil {
		t.Error("one run merged")
	}
}
