package compare

import (
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	_ "rpcbench/targets/httptarget"
)

// Confirming an external target's cell re-runs that target, not a
// transport of the same name.
func TestConfirmSpecOfTargetCell(t *testing.T) {
	sp, err := spec.Parse([]byte("name: x\ntargets:\n  h: {url: \"http://127.0.0.1:1/x\"}\ndimensions:\n  target: [h]\n  concurrency: [4]\n  profile: [lan]\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	pc := plan.Cells[0]
	run := &results.Run{RunID: "r", Manifest: results.Manifest{Spec: sp}, Cells: []*results.Cell{{Key: pc.Key, Params: pc}}}
	c, err := ConfirmSpec(run, []string{pc.Key})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Groups[0].Dimensions; len(d.Target) != 1 || d.Target[0] != "h" || len(d.Transport) != 0 {
		t.Fatalf("confirm dimensions %+v", d)
	}
}
