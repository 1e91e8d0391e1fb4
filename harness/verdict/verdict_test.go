package verdict

import (
	"strings"
	"testing"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// cellSpec describes a synthetic cell: its figures per repetition are
// base × (1 + jitter[i]) so that cells measured "in the same repetition"
// share the machine's drift, as interleaved cells do.
type cellSpec struct {
	transport, codec, payload string
	conc                      int
	tput, p50                 float64 // per-repetition base values
	wire, allocs              float64
	status                    string
}

var drift = []float64{0, 0.04, -0.03, 0.02, -0.05, 0.06, 0.01, -0.02}

func synth(reps int, cs ...cellSpec) *results.Run {
	run := &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, RunID: "synthetic"}
	run.Manifest.Spec = &spec.Spec{Repetitions: reps}
	for _, s := range cs {
		p := spec.Cell{Transport: spec.Transport{Name: s.transport}, Codec: s.codec, Compression: "none", Payload: s.payload,
			Concurrency: s.conc, Connections: 1, Load: spec.Load{Kind: "closed"}}
		p.Key = p.KeyOf()
		c := &results.Cell{Key: p.Key, Params: p, Status: s.status}
		if c.Status == "" {
			c.Status = results.StatusOK
		}
		for i := range reps {
			d := 1 + drift[i%len(drift)]
			f := &results.Figures{Calls: 1000, OK: 1000, Throughput: s.tput * d,
				Latency: record.Summary{P50: int64(s.p50 / d), P99: int64(3 * s.p50 / d), P999: int64(5 * s.p50 / d)}}
			f.PerCall.WireOut, f.PerCall.WireIn = s.wire/2, s.wire/2
			f.PerCall.ClientAllocs = s.allocs
			f.PerCall.ClientCPUNs = 1e9 / s.tput
			c.Reps = append(c.Reps, &results.Rep{Rep: i, Status: c.Status, Figures: f})
		}
		c.Merged = &results.Merged{Reps: reps, Throughput: results.Stat{Median: s.tput, Min: s.tput * 0.95, Max: s.tput * 1.06}}
		if s.status == results.StatusErrors {
			c.Merged.Errors = 7
		}
		run.Cells = append(run.Cells, c)
	}
	return run
}

func objective(t *testing.T, v *Verdict, metric *Metric, what string) *Objective {
	t.Helper()
	for _, o := range v.Objectives {
		if o.Metric == metric && strings.Contains(o.What, what) {
			return o
		}
	}
	t.Fatalf("no objective %s %q in %d objectives", metric.Name, what, len(v.Objectives))
	return nil
}

// The winner follows the data: whichever transport is faster wins, with
// a margin whose interval excludes a tie.
func TestWinnerFollowsTheData(t *testing.T) {
	for _, winner := range []string{"tcp", "udp", "quic"} {
		var cs []cellSpec
		for _, tr := range []string{"tcp", "udp", "quic"} {
			tput, p50 := 100e3, 40e3
			if tr == winner {
				tput, p50 = 150e3, 30e3
			}
			cs = append(cs, cellSpec{transport: tr, codec: "proto", payload: "Small", conc: 64, tput: tput, p50: p50, wire: 80, allocs: 3},
				cellSpec{transport: tr, codec: "proto", payload: "Small", conc: 1, tput: tput / 5, p50: p50, wire: 80, allocs: 3})
		}
		v := Of(synth(6, cs...))
		o := objective(t, v, Throughput, "throughput at c=64")
		if !strings.HasPrefix(o.Best.Label, winner+" ") || !o.Clear {
			t.Errorf("winner %s: throughput best %q clear=%v margin %v", winner, o.Best.Label, o.Clear, o.Margin)
		}
		if o.Margin.Ratio < 1.49 || o.Margin.Ratio > 1.51 || o.Margin.Lo <= 1 {
			t.Errorf("winner %s: margin %v, want 1.5× with an interval above 1", winner, o.Margin)
		}
		lat := objective(t, v, P50, "c=1")
		if !strings.HasPrefix(lat.Best.Label, winner+" ") || !lat.Clear {
			t.Errorf("winner %s: p50 best %q clear=%v", winner, lat.Best.Label, lat.Clear)
		}
		found := false
		for _, cl := range v.Claims {
			if cl.Ref == o.ID && strings.Contains(cl.Text, winner+" proto") && cl.Key == o.Best.Key {
				found = true
			}
		}
		if !found {
			t.Errorf("winner %s: no claim names it for %s: %+v", winner, o.ID, v.Claims)
		}
	}
}

// A tie, or a difference smaller than the repetitions' spread, is "no
// clear winner", never a coin toss.
func TestTieIsNoClearWinner(t *testing.T) {
	run := synth(6,
		cellSpec{transport: "tcp", codec: "proto", payload: "Small", conc: 64, tput: 100e3, p50: 40e3, wire: 80, allocs: 3},
		cellSpec{transport: "udp", codec: "proto", payload: "Small", conc: 64, tput: 100e3, p50: 40e3, wire: 80, allocs: 3})
	// Unpaired noise: udp's repetitions go up and down against tcp's.
	for i, r := range run.Cells[1].Reps {
		r.Figures.Throughput *= 1 + 0.05*float64(1-2*(i%2))
	}
	v := Of(run)
	o := objective(t, v, Throughput, "throughput")
	if o.Clear || !strings.Contains(o.Why, "no clear winner") {
		t.Errorf("tie judged clear: best %s margin %v why %q", o.Best.Label, o.Margin, o.Why)
	}
	w := objective(t, v, Wire, "wire")
	if w.Clear || !w.Margin.Exact {
		t.Errorf("equal wire bytes: clear=%v margin %v", w.Clear, w.Margin)
	}
	for _, cl := range v.Claims {
		if cl.Ref == o.ID && !strings.Contains(cl.Text, "no clear winner") {
			t.Errorf("claim on a tie names a winner: %s", cl.Text)
		}
	}
}

// Three repetitions cannot give a 95% interval: the verdict says so
// rather than crowning a winner, except for figures equal in every
// repetition.
func TestFewRepetitions(t *testing.T) {
	v := Of(synth(3,
		cellSpec{transport: "tcp", codec: "proto", payload: "Small", conc: 64, tput: 150e3, p50: 40e3, wire: 80, allocs: 3},
		cellSpec{transport: "udp", codec: "proto", payload: "Small", conc: 64, tput: 100e3, p50: 40e3, wire: 90, allocs: 3}))
	o := objective(t, v, Throughput, "throughput")
	if o.Clear || !strings.Contains(o.Why, "need 6") {
		t.Errorf("3 reps: clear=%v why %q", o.Clear, o.Why)
	}
	if w := objective(t, v, Wire, "wire"); !w.Clear || w.Best.Label != "tcp proto" {
		t.Errorf("deterministic wire bytes 80 vs 90 with 3 reps: clear=%v best %s", w.Clear, w.Best.Label)
	}
	if !hasCaveat(v, "FEW REPS", "") {
		t.Errorf("no FEW REPS caveat: %+v", v.CannotJudge)
	}
}

// Cells with errors or a generator behind schedule never win and are
// listed; limits (raw sockets) are measured but never win; a noisy
// reference is reported.
func TestCannotJudge(t *testing.T) {
	run := synth(6,
		cellSpec{transport: "tcp", codec: "proto", payload: "Small", conc: 64, tput: 100e3, p50: 40e3, wire: 80, allocs: 3},
		cellSpec{transport: "udp", codec: "proto", payload: "Small", conc: 64, tput: 300e3, p50: 10e3, wire: 80, allocs: 3, status: results.StatusErrors},
		cellSpec{transport: "quic", codec: "proto", payload: "Small", conc: 64, tput: 300e3, p50: 10e3, wire: 80, allocs: 3, status: results.StatusBehind},
		cellSpec{transport: "raw-tcp-pipelined", codec: "proto", payload: "Small", conc: 64, tput: 900e3, p50: 5e3, wire: 60, allocs: 0},
		cellSpec{transport: "http1", codec: "proto", payload: "Small", conc: 64, tput: 90e3, p50: 45e3, wire: 200, allocs: 9})
	run.Manifest.Reference = run.Cells[0].Key
	run.Cells[0].Merged.Throughput.Min, run.Cells[0].Merged.Throughput.Max = 70e3, 110e3
	v := Of(run)
	o := objective(t, v, Throughput, "throughput")
	if o.Best.Label != "tcp proto" || o.RunnerUp.Label != "http1 proto" {
		t.Errorf("best %s, runner-up %s: cells with errors, behind, or limits competed", o.Best.Label, o.RunnerUp.Label)
	}
	for _, want := range [][2]string{{"ERRORS", run.Cells[1].Key}, {"BEHIND", run.Cells[2].Key}, {"NOISY", run.Cells[0].Key}} {
		if !hasCaveat(v, want[0], want[1]) {
			t.Errorf("no %s caveat for %s: %+v", want[0], want[1], v.CannotJudge)
		}
	}
}

func hasCaveat(v *Verdict, kind, key string) bool {
	for _, c := range v.CannotJudge {
		if c.Kind == kind && (key == "" || c.Key == key) {
			return true
		}
	}
	return false
}

// Codecs on one message size: the fastest, the smallest and the cost of
// JSON come from the cells that differ in codec alone.
func TestCodecChoice(t *testing.T) {
	v := Of(synth(6,
		cellSpec{transport: "tcp", codec: "proto", payload: "Small", conc: 16, tput: 120e3, p50: 40e3, wire: 80, allocs: 3},
		cellSpec{transport: "tcp", codec: "msgpack", payload: "Small", conc: 16, tput: 100e3, p50: 40e3, wire: 70, allocs: 4},
		cellSpec{transport: "tcp", codec: "json", payload: "Small", conc: 16, tput: 60e3, p50: 60e3, wire: 200, allocs: 12},
		cellSpec{transport: "tcp", codec: "proto", payload: "Medium", conc: 16, tput: 50e3, p50: 90e3, wire: 800, allocs: 5},
		cellSpec{transport: "tcp", codec: "json", payload: "Medium", conc: 16, tput: 55e3, p50: 80e3, wire: 2000, allocs: 30}))
	if len(v.Codecs) != 2 {
		t.Fatalf("%d codec choices, want 2 (Small, Medium)", len(v.Codecs))
	}
	small := v.Codecs[0]
	if small.Payload != "Small" || small.Fastest.Label != "tcp proto" || small.Smallest.Label != "tcp msgpack" || small.JSON == nil {
		t.Fatalf("Small: fastest %s smallest %s json %v", small.Fastest.Label, small.Smallest.Label, small.JSON)
	}
	if r := small.JSONSpeed.Ratio; r < 1.99 || r > 2.01 || small.JSONBytes != 130 {
		t.Errorf("json cost: speed %v, bytes %v; want 2× and +130 B", small.JSONSpeed, small.JSONBytes)
	}
	// When JSON is the fastest there is no cost of choosing it.
	if med := v.Codecs[1]; med.Fastest.Label != "tcp json" || med.JSON != nil {
		t.Errorf("Medium: fastest %s, json cost %v", med.Fastest.Label, med.JSON)
	}
	text := ""
	for _, c := range v.Claims {
		if c.Ref == small.ID {
			text = c.Text
		}
	}
	if !strings.Contains(text, "choosing JSON instead costs 50% of the throughput") || !strings.Contains(text, "130 B more") {
		t.Errorf("codec claim: %q", text)
	}
}

// Anchors are safe as HTML ids and Markdown link targets.
func TestAnchor(t *testing.T) {
	a := Anchor("transport=quic+mux/codec=proto/compression=none/payload=Bytes(64)/conc=1/conns=1/load=open@2000.5")
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("anchor %q has %q", a, r)
		}
	}
}

// Two cells whose medians rank them one way and whose paired
// per-repetition ratios the other: the paired ratios pick the best, and
// the objective says the medians disagree.
func TestRerankedByPairedRatios(t *testing.T) {
	// a's throughput per repetition, and b's: a's median (60) is below
	// b's (100), but a beats b in four of the six repetitions.
	av := []float64{200, 200, 60, 60, 10, 10}
	bv := []float64{190, 190, 55, 55, 100, 100}
	run := synth(6,
		cellSpec{transport: "tcp", codec: "proto", payload: "Small", conc: 64, tput: 1, p50: 1, wire: 80, allocs: 3},
		cellSpec{transport: "udp", codec: "proto", payload: "Small", conc: 64, tput: 1, p50: 1, wire: 80, allocs: 3})
	for i := range 6 {
		run.Cells[0].Reps[i].Figures.Throughput = av[i]
		run.Cells[1].Reps[i].Figures.Throughput = bv[i]
	}
	o := judge(run.Cells, Throughput)
	if o == nil {
		t.Fatal("no objective")
	}
	if !strings.HasPrefix(o.Best.Label, "tcp ") || !o.Reranked {
		t.Errorf("best %s (median %v) over %s (median %v), reranked %v: want tcp first by its paired ratios, reranked",
			o.Best.Label, o.Best.Median, o.RunnerUp.Label, o.RunnerUp.Median, o.Reranked)
	}
	// The same cells with a clearly ahead in every repetition: no rerank.
	for i := range 6 {
		run.Cells[0].Reps[i].Figures.Throughput = bv[i] * 1.5
	}
	if o := judge(run.Cells, Throughput); o.Reranked || !strings.HasPrefix(o.Best.Label, "tcp ") {
		t.Errorf("best %s reranked %v, want tcp, not reranked", o.Best.Label, o.Reranked)
	}
}
