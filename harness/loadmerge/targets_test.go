package loadmerge_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"rpcbench/harness/loadmerge"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
	"rpcbench/targets/greeter"
	_ "rpcbench/targets/grpctarget"
)

// Two load processes run a spec of external targets at once against one
// gRPC server; their runs merge like runs against one --server: the
// merged cell holds every call the server answered, and its server costs
// stay unknown.
func TestMergeTargetRuns(t *testing.T) {
	gs := &greeter.Service{Record: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer greeter.ServeGRPC(gs, l).Stop()
	yaml := "name: shared\nrepetitions: 1\nwarmup: 50ms\nduration: 300ms\npin: \"off\"\ngenerator_ceiling: false\n" +
		"targets:\n  g: {url: \"grpc://" + l.Addr().String() + "\", call: greet.v1.Greeter/SayHello, data: '{\"name\":\"x\"}'}\n" +
		"dimensions:\n  target: [g]\n  concurrency: [2]\n"
	runs := make([]*results.Run, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			sp, err := spec.Parse([]byte(yaml))
			if err != nil {
				errs[i] = err
				return
			}
			runs[i], _, errs[i] = runner.Run(context.Background(), runner.Options{Spec: sp, NoWrite: true, LoadID: i + 1})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if runs[0].Manifest.LoadID != 1 || !strings.HasSuffix(runs[1].RunID, "-load2") {
		t.Errorf("load ids %d, %s", runs[0].Manifest.LoadID, runs[1].RunID)
	}
	merged, err := loadmerge.Merge(runs, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := merged.Cells[0].Reps[0].Figures
	ok := runs[0].Cells[0].Reps[0].Figures.OK + runs[1].Cells[0].Reps[0].Figures.OK
	if f.OK != ok || f.OK == 0 || len(f.Loads) != 2 || f.PerCall.ServerUnknown == "" || f.PerCall.ServerCPUNs != 0 {
		t.Errorf("merged %d calls of %d; loads %d; per call %+v", f.OK, ok, len(f.Loads), f.PerCall)
	}
	if int64(gs.Calls()) < f.OK {
		t.Errorf("the server answered %d calls, the merged run counts %d", gs.Calls(), f.OK)
	}
	if notes := strings.Join(merged.Manifest.Notes, "\n"); !strings.Contains(notes, "against the same external targets") {
		t.Errorf("notes: %s", notes)
	}
}
