package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/target"
)

func mustSpec(t *testing.T, y string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A server that cannot start fails its cell, with the error, and the run
// goes on to the next cell and writes its results.
func TestFailedCellsAreRecorded(t *testing.T) {
	sp := mustSpec(t, `
name: failing
pin: "off"
repetitions: 2
warmup: 10ms
duration: 50ms
dimensions:
  transport: [tcp, unix]
  codec: [proto]
`)
	root := t.TempDir()
	run, dir, err := Run(context.Background(), Options{Spec: sp, ResultsRoot: root, ServerBinary: "/nonexistent/rpcbench"})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) != 3 {
		t.Fatalf("%d cells, want 2 and the generator ceiling", len(run.Cells))
	}
	for _, c := range run.Cells[:2] {
		if c.Status != results.StatusFailed || len(c.Reps) != 2 || len(c.Failures) != 1 || !strings.HasPrefix(c.Failures[0], "reps 1, 2: ") || !strings.Contains(c.Failures[0], "nonexistent") {
			t.Errorf("%s: status %s, failures %q", c.Key, c.Status, c.Failures)
		}
	}
	if noop := run.Cells[2]; noop.Status != results.StatusOK || noop.Merged.Throughput.Median <= 0 {
		t.Errorf("generator cell: %s %+v", noop.Status, noop.Merged)
	}
	back, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil || len(back.Cells) != 3 || back.Cells[0].Status != results.StatusFailed {
		t.Fatalf("results.json: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(root, "latest")); err != nil || l != filepath.Base(dir) {
		t.Errorf("latest -> %q, %v", l, err)
	}
}

// In-process cells run without a server binary; both sides' bytes are
// counted and client figures include the server's.
func TestInProcess(t *testing.T) {
	sp := mustSpec(t, `
name: inproc
server: inprocess
repetitions: 1
warmup: 20ms
duration: 150ms
generator_ceiling: false
dimensions:
  transport: [tcp]
  codec: [raw]
  payload: [Bytes(100)]
  concurrency: [2]
  load: [closed, "open@1000"]
`)
	run, _, err := Run(context.Background(), Options{Spec: sp, NoWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		// On a busy machine the pacer may wake late; that is flagged, and
		// is the only way this cell may not be ok.
		if c.Status != results.StatusOK && c.Status != results.StatusBehind {
			t.Fatalf("%s: %s %q %+v", c.Key, c.Status, c.Failures, c.Reps[0].Figures.Open)
		}
		p := c.Merged.PerCall
		if !p.Combined || p.WireOut < 100 || p.WireOut != p.ServerWireIn || p.WireIn != p.ServerWireOut || p.ClientCPUNs <= 0 {
			t.Errorf("%s: per call %+v", c.Key, p)
		}
	}
	if o := run.Cells[1].Reps[0].Figures.Open; o == nil || o.TargetRate != 1000 || o.Scheduled != 150 {
		t.Errorf("open loop figures %+v", o)
	}
}

type fakePeerTarget struct{ target.Noop }

func (fakePeerTarget) Verify(context.Context, target.Conn) error {
	return errors.New("fake peer: wrong answer")
}

// A peer is a transport name in specs and runs like any cell. The spec
// names a real peer; Options.Peers swaps its server and target for a fake
// without a server process, whose Verify fails for Medium.
func TestPeer(t *testing.T) {
	fake := func(name string) (target.Peer, bool) {
		if name != "grpc" {
			return target.Peer{}, false
		}
		return target.Peer{NewTarget: func(c target.PeerConfig) (target.Target, error) {
			if c.Payload == "Medium" {
				return fakePeerTarget{}, nil
			}
			return target.Noop{}, nil
		}}, true
	}
	sp := mustSpec(t, `
name: peers
pin: "off"
repetitions: 1
warmup: 10ms
duration: 50ms
generator_ceiling: false
dimensions:
  transport: [grpc]
  codec: [proto]
  payload: [Small, Medium]
`)
	run, _, err := Run(context.Background(), Options{Spec: sp, NoWrite: true, Peers: fake})
	if err != nil {
		t.Fatal(err)
	}
	if c := run.Cells[0]; c.Status != results.StatusOK || c.Merged.Throughput.Median <= 0 {
		t.Errorf("%s: %s", c.Key, c.Status)
	}
	if c := run.Cells[1]; c.Status != results.StatusFailed || !strings.Contains(c.Failures[0], "wrong answer") {
		t.Errorf("%s: %s %q", c.Key, c.Status, c.Failures)
	}
	s := mustSpec(t, "dimensions:\n  transport: [grpc+gnet]\n  codec: [proto]\n")
	if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), "takes no options") {
		t.Errorf("peer with options: %v", err)
	}
}

// Every repetition runs every cell once, group after group, so that a
// group's cells (an rpcbench cell and its limit) are neighbours in time in
// each round, and repetition i of each cell comes from round i.
func TestRoundsInterleaveGroups(t *testing.T) {
	var order []string
	fake := func(name string) (target.Peer, bool) {
		return target.Peer{NewTarget: func(c target.PeerConfig) (target.Target, error) {
			order = append(order, name+"/"+c.Payload)
			return target.Noop{}, nil
		}}, true
	}
	sp := mustSpec(t, `
name: rounds
pin: "off"
repetitions: 3
warmup: 5ms
duration: 20ms
generator_ceiling: false
groups:
  - name: a
    dimensions:
      transport: [raw-udp-batched, raw-udp]
      codec: [proto]
      payload: [Small]
  - name: b
    dimensions:
      transport: [raw-quic-mux, grpc]
      codec: [raw]
      payload: [Bytes(64)]
`)
	run, _, err := Run(context.Background(), Options{Spec: sp, NoWrite: true, Peers: fake})
	if err != nil {
		t.Fatal(err)
	}
	round := "raw-udp-batched/Small raw-udp/Small raw-quic-mux/Bytes(64) grpc/Bytes(64)"
	if got, want := strings.Join(order, " "), strings.Repeat(round+" ", 3); got+" " != want {
		t.Fatalf("order of runs:\n%s\nwant three rounds of\n%s", got, round)
	}
	for _, c := range run.Cells {
		for i, r := range c.Reps {
			if r.Rep != i {
				t.Errorf("%s: repetition %d recorded as %d", c.Key, i, r.Rep)
			}
		}
	}
}
