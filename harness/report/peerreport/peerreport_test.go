package peerreport

import (
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/netem"
)

func cell(t *testing.T, transport, profile string) *results.Cell {
	t.Helper()
	p := spec.Cell{Transport: spec.Transport{Name: transport}, Codec: "proto", Compression: "none", Payload: "Small",
		Concurrency: 16, Connections: 1, Load: spec.Load{Kind: "closed"}}
	if profile != "direct" {
		prof, err := netem.Lookup(profile, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Profile = &prof
	}
	p.Key = p.KeyOf()
	return &results.Cell{Key: p.Key, Params: p, Status: results.StatusOK, Merged: &results.Merged{Reps: 1}}
}

// TestLimitsShareTheProfile: a cell measured across an emulated network is
// put beside the raw limit and gRPC measured across the same network, or
// beside none, never beside the direct ones.
func TestLimitsShareTheProfile(t *testing.T) {
	run := &results.Run{Cells: []*results.Cell{
		cell(t, "tcp", "direct"), cell(t, "raw-tcp-pipelined", "direct"), cell(t, "grpc", "direct"),
		cell(t, "tcp", "wan"), cell(t, "grpc", "wan"),
		cell(t, "tcp", "lossy"),
	}}
	got := map[string]Row{}
	for _, r := range Rows(run) {
		got[r.Cell.Params.ProfileName()] = r
	}
	if r := got["direct"]; r.Limit != run.Cells[1] || r.GRPC != run.Cells[2] {
		t.Errorf("direct tcp: limit %v, grpc %v", r.Limit, r.GRPC)
	}
	if r := got["wan"]; r.Limit != nil || r.GRPC != run.Cells[4] {
		t.Errorf("wan tcp: limit %v (want none: no raw cell ran across wan), grpc %v (want the wan one)", r.Limit, r.GRPC)
	}
	if _, ok := got["lossy"]; ok {
		t.Errorf("lossy tcp has no reference across lossy but got a row")
	}
}
