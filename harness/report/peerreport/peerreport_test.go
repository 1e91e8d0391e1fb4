package peerreport

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/netem"
	"rpcbench/peers"
	_ "rpcbench/transports/all"
)

// cell is a closed-loop cell of group "g" that ran once per throughput
// given, repetition i at tput[i] calls/s.
func cell(t *testing.T, transport, profile string, tput ...float64) *results.Cell {
	t.Helper()
	tr, err := spec.ParseTransport(transport)
	if err != nil {
		t.Fatal(err)
	}
	p := spec.Cell{Transport: tr, Group: "g", Codec: "proto", Compression: "none", Payload: "Small",
		Concurrency: 16, Connections: 1, Load: spec.Load{Kind: "closed"}}
	if profile != "direct" {
		prof, err := netem.Lookup(profile, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Profile = &prof
	}
	p.Key = p.KeyOf()
	if len(tput) == 0 {
		tput = []float64{1}
	}
	c := &results.Cell{Key: p.Key, Group: p.Group, Params: p, Status: results.StatusOK, Merged: &results.Merged{Reps: len(tput)}}
	for i, v := range tput {
		c.Reps = append(c.Reps, &results.Rep{Rep: i, Status: results.StatusOK, Figures: &results.Figures{Throughput: v}})
	}
	c.Merged.Throughput.Median = slices.Sorted(slices.Values(tput))[len(tput)/2]
	return c
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
	if r := got["direct"]; r.Limit.Cell != run.Cells[1] || r.GRPC.Cell != run.Cells[2] {
		t.Errorf("direct tcp: limit %v, grpc %v", r.Limit, r.GRPC)
	}
	if r := got["wan"]; r.Limit.Cell != nil || r.GRPC.Cell != run.Cells[4] {
		t.Errorf("wan tcp: limit %v (want none: no raw cell ran across wan), grpc %v (want the wan one)", r.Limit, r.GRPC)
	}
	if _, ok := got["lossy"]; ok {
		t.Errorf("lossy tcp has no reference across lossy but got a row")
	}
}

// TestLimitOfEachDesign: each transport is divided by the raw peer of its
// own design, and the naive peer is named where there is one.
func TestLimitOfEachDesign(t *testing.T) {
	for _, tc := range []struct {
		transport    string
		conc         int
		limit, naive string
	}{
		{"tcp", 1, "raw-tcp-pingpong", ""},
		{"tcp", 64, "raw-tcp-pipelined", "raw-tcp-pingpong"},
		{"tcp+workers", 64, "raw-tcp-pipelined", "raw-tcp-pingpong"},
		{"unix", 16, "raw-tcp-pipelined", "raw-tcp-pingpong"},
		{"udp", 64, "raw-udp-batched", "raw-udp"},
		{"udp+gnet", 1, "raw-udp-batched", "raw-udp"},
		{"http1", 64, "raw-fasthttp", ""},
		{"quic", 64, "raw-quic", ""},
		{"quic+stream", 64, "raw-quic", ""},
		{"quic+mux", 64, "raw-quic-mux", "raw-quic"},
	} {
		tr, err := spec.ParseTransport(tc.transport)
		if err != nil {
			t.Fatal(err)
		}
		ch := LimitFor(tr, tc.conc)
		if ch.Limit != tc.limit || ch.Naive != tc.naive || ch.Why == "" || (ch.Naive != "") != (ch.NaiveDesign != "") {
			t.Errorf("%s c=%d: %+v, want limit %s, naive %q", tc.transport, tc.conc, ch, tc.limit, tc.naive)
		}
		for _, n := range []string{ch.Limit, ch.Naive} {
			if _, ok := peers.Lookup(n); n != "" && !ok {
				t.Errorf("%s: %s is no peer", tc.transport, n)
			}
		}
	}
}

// TestSameGroupFirst: of two limit cells, the one of the rpcbench cell's
// own group (or a group it is also in) is taken, even over one with the
// same connection count; one from another group is marked as far.
func TestSameGroupFirst(t *testing.T) {
	udp := cell(t, "udp", "direct")
	other := cell(t, "raw-udp-batched", "direct")
	other.Group, other.Params.Group = "peers", "peers"
	mine := cell(t, "raw-udp-batched", "direct")
	mine.Params.Connections = 4
	run := &results.Run{Cells: []*results.Cell{udp, other, mine}}
	if r := Rows(run); len(r) != 1 || r[0].Limit.Cell != mine || !r[0].Limit.Near {
		t.Fatalf("rows %+v: want the same group's limit, near", r)
	}
	mine.Group, mine.Params.Group, mine.Params.AlsoIn = "other", "other", []string{"g"}
	if r := Rows(run); r[0].Limit.Cell != mine || !r[0].Limit.Near {
		t.Fatalf("limit %+v: want the one also in the cell's group", r[0].Limit)
	}
	run.Cells = run.Cells[:2]
	r := Rows(run)
	if r[0].Limit.Cell != other || r[0].Limit.Near || far(r[0].Limit) == "" {
		t.Fatalf("limit %+v: want the other group's, marked far", r[0].Limit)
	}
}

// TestRepRatios: ratios pair repetitions by number, skip a repetition
// either cell lost, and give median, min and max.
func TestRepRatios(t *testing.T) {
	a := cell(t, "udp", "direct", 80, 90, 100, 70, 60)
	b := cell(t, "raw-udp-batched", "direct", 100, 100, 100, 100, 1)
	a.Reps[3].Status, a.Reps[3].Figures = results.StatusFailed, nil
	b.Reps[0], b.Reps[1] = b.Reps[1], b.Reps[0] // order in the file does not matter
	b.Reps[4].Figures.Throughput = 0            // no division by zero
	s := RepRatios(a, b, throughput)
	if s.N != 3 || s.Median != 0.9 || s.Min != 0.8 || s.Max != 1 {
		t.Fatalf("spread %+v, want 3 reps, median 0.9, 0.8–1", s)
	}
	if got := s.String(); got != "0.90 (0.80–1.00)" {
		t.Errorf("String() = %q", got)
	}
	if s := RepRatios(a, cell(t, "raw-udp", "direct", 40, 50), throughput); s.N != 2 || s.Median != 1.9 {
		t.Errorf("even count: %+v, want the mean of the middle two (2 and 1.8)", s)
	}
	if got := (Spread{}).String(); got != "–" {
		t.Errorf("no pair: %q", got)
	}
}

// TestMarkdownShowsSpreadAndChoice: the section gives the per-repetition
// spread of each ratio and says which limit each kind of cell uses.
func TestMarkdownShowsSpreadAndChoice(t *testing.T) {
	run := &results.Run{Cells: []*results.Cell{
		cell(t, "udp", "direct", 80, 90, 70), cell(t, "raw-udp-batched", "direct", 100, 100, 100),
		cell(t, "raw-udp", "direct", 50, 50, 50), cell(t, "grpc", "direct", 10, 10, 10),
	}}
	var b bytes.Buffer
	Markdown(&b, run, map[string]map[string]string{"raw-udp-batched": {"batch_io": "x/net"}})
	out := b.String()
	for _, want := range []string{
		"| raw-udp-batched (100/s) | 0.80 | 0.80 (0.70–0.90) |",
		"| 1.60 (1.40–1.80) raw-udp |",
		"| 8.00 (7.00–9.00) |",
		"| udp | raw-udp-batched | the same design",
		"raw-udp (a socket per caller, one datagram in flight on each): what a naive client gets",
		"| raw-udp-batched | batch_io | x/net |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
}

// TestDefaultSpecPairsEcho64: in the default spec's echo64 group, every
// rpcbench cell has its limit, and its naive reference, in the group.
func TestDefaultSpecPairsEcho64(t *testing.T) {
	b, err := os.ReadFile("../../../specs/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sp.Expand()
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{}
	for _, c := range plan.Cells {
		if c.Group != "echo64" {
			continue
		}
		run.Cells = append(run.Cells, &results.Cell{Key: c.Key, Group: c.Group, Params: c, Merged: &results.Merged{Reps: 1}})
	}
	rows := Rows(run)
	kinds := map[string]bool{}
	for _, r := range rows {
		kinds[r.Cell.Params.Transport.String()] = true
		if r.Limit.Cell == nil || !r.Limit.Near || r.Choice.Naive != "" && (r.Naive.Cell == nil || !r.Naive.Near) || r.GRPC.Cell == nil {
			t.Errorf("%s: limit %v, naive %v, grpc %v: want each in echo64", r.Cell.Key, r.Limit.Cell != nil, r.Naive.Cell != nil, r.GRPC.Cell != nil)
		}
	}
	for _, k := range []string{"tcp", "udp", "http1", "quic", "quic+mux"} {
		if !kinds[k] {
			t.Errorf("echo64 has no %s cell with references (rows: %v)", k, kinds)
		}
	}
}

// TestBrokeredBesideTCP: a brokered cell is put beside the tcp cell of
// the same codec and load, with its CPU per call, not in the limits table.
func TestBrokeredBesideTCP(t *testing.T) {
	nats, tcp := cell(t, "nats", "direct", 10, 20, 30), cell(t, "tcp", "direct", 100, 100, 100)
	nats.Merged.PerCall = results.PerCall{ClientCPUNs: 30000, ServerCPUNs: 50000}
	tcp.Merged.PerCall = results.PerCall{ClientCPUNs: 5000, ServerCPUNs: 5000}
	grpc := cell(t, "grpc", "direct", 50, 50, 50)
	run := &results.Run{Cells: []*results.Cell{nats, tcp, grpc}}
	for _, r := range Rows(run) {
		if r.Cell == nats {
			t.Error("a brokered cell is in the limits table")
		}
	}
	var b bytes.Buffer
	Markdown(&b, run, nil)
	out := b.String()
	for _, want := range []string{"### Brokered RPC beside direct TCP", "| " + nats.Key + " | 20 |", "| 100 | 0.20 (0.10–0.30) |", "| 80µs | 8.00 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
}
