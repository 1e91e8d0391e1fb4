package report

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/internal/testenv"
	"rpcbench/netem"
)

// fakeRun builds a run with closed, open, sweep, failed and erroring
// cells from synthetic histograms.
func fakeRun(t testing.TB) *results.Run {
	t.Helper()
	sp, err := spec.Parse([]byte("name: fake\nrepetitions: 2\ndimensions:\n  transport: [tcp]\n  codec: [proto]\n"))
	if err != nil {
		t.Fatal(err)
	}
	run := &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, RunID: "20250101T000000Z-fake",
		Manifest: results.Manifest{SpecName: "fake", Spec: sp, Commit: "abc", CPUModel: "Test CPU", Cores: 2, GoVersion: "go1.26", ServerMode: "process",
			Started: time.Unix(0, 0), Finished: time.Unix(10, 0)}}
	fig := func(base int64, calls int64, errs int64, open bool) *results.Figures {
		h := record.New()
		for i := int64(0); i < calls; i++ {
			h.Record(base + i%100*base/50)
		}
		enc, _ := h.Encode()
		f := &results.Figures{Calls: calls + errs, OK: calls, Errors: errs, ElapsedNs: int64(time.Second), Throughput: float64(calls),
			Latency: h.Summary(), Hist: enc,
			PerCall: results.PerCall{ClientCPUNs: float64(base) / 10, ServerCPUNs: float64(base) / 20, ClientAllocs: 2, ServerAllocs: 4, WireOut: 79, WireIn: 79}}
		// Ten buckets with a stall in the fourth.
		f.Series = &results.Series{BucketNs: 1e8, LastNs: 1e8}
		for i := range 10 {
			stall := int64(1)
			if i == 3 {
				stall = 8
			}
			f.Series.OK = append(f.Series.OK, calls/10/stall)
			f.Series.P50 = append(f.Series.P50, base*stall)
			f.Series.P99 = append(f.Series.P99, 3*base*stall)
			f.Series.Max = append(f.Series.Max, 5*base*stall)
		}
		if errs > 0 {
			f.ErrorsByCode = map[string]int64{"unavailable": errs}
			f.ErrorSamples = map[string]string{"unavailable": "connection lost"}
		}
		if open {
			s := h.Summary()
			s.P99 /= 2
			f.Uncorrected, f.UncorrectedHist = &s, enc
			f.Open = &results.Open{TargetRate: float64(calls), AchievedRate: float64(calls), PacerLagP99Ns: 20e3}
		}
		return f
	}
	add := func(group, transport, conc, load string, reps ...*results.Rep) *results.Cell {
		t.Helper()
		s, err := spec.Parse([]byte("dimensions:\n  transport: [" + transport + "]\n  codec: [proto]\n  concurrency: [" + conc + "]\n  load: [\"" + load + "\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Expand()
		if err != nil {
			t.Fatal(err)
		}
		pc := p.Cells[0]
		pc.Group = group
		c := &results.Cell{Key: pc.Key, Group: group, Params: pc, Status: results.StatusOK, Reps: reps}
		run.Cells = append(run.Cells, c)
		return c
	}
	rep := func(i int, f *results.Figures) *results.Rep {
		st := results.StatusOK
		if f.Errors > 0 {
			st = results.StatusErrors
		}
		return &results.Rep{Rep: i, Status: st, Figures: f}
	}
	add("transports", "tcp", "1", "closed", rep(0, fig(20e3, 40000, 0, false)), rep(1, fig(21e3, 41000, 0, false)))
	add("transports", "tcp", "64", "closed", rep(0, fig(300e3, 150000, 0, false)), rep(1, fig(310e3, 148000, 0, false)))
	add("transports", "unix", "1", "closed", rep(0, fig(18e3, 45000, 3, false)), rep(1, fig(18e3, 46000, 0, false)))
	add("transports", "unix", "64", "closed", &results.Rep{Rep: 0, Status: results.StatusFailed, Error: "server exited before it was ready"})
	add("open", "tcp", "64", "poisson@20000", rep(0, fig(40e3, 20000, 0, true)))
	sw := &results.Sweep{CapacityRate: 150000, P99BoundNs: 5e6}
	for i, r := range []float64{10000, 50000, 100000, 160000} {
		f := fig(int64(30e3*(i+1)*(i+1)), int64(r), 0, true)
		sw.Steps = append(sw.Steps, &results.Step{TargetRate: r, Figures: f, Held: i < 3})
	}
	sw.SustainedRate = 100000
	add("sweeps", "tcp", "64", "sweep", &results.Rep{Rep: 0, Status: results.StatusOK, Figures: fig(300e3, 150000, 0, false), Sweep: sw})
	// The same tcp c=1 cell under three network profiles.
	for i, name := range []string{"direct", "relay", "wan"} {
		c := add("network", "tcp", "2", "closed", rep(0, fig(int64(20e3*(1+10*i)), 1000, 0, false)))
		if name == "direct" {
			continue
		}
		pr, err := netem.Lookup(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Params.Profile = &pr
		c.Key = c.Params.KeyOf()
		c.Params.Key = c.Key
		c.Reps[0].Relay = &netem.Stats{Packets: 2000, Recovered: 3}
		if run.Manifest.Profiles == nil {
			run.Manifest.Profiles, run.Manifest.ProfileModel = map[string]*netem.Profile{}, netem.Model
		}
		run.Manifest.Profiles[name] = &pr
	}
	run.Manifest.Reference = run.Cells[1].Key
	for _, c := range run.Cells {
		mergeForTest(c)
	}
	return run
}

// mergeForTest is the runner's Merge, reduced: the report must not depend
// on the runner.
func mergeForTest(c *results.Cell) {
	var figs []*results.Figures
	for _, r := range c.Reps {
		if r.Figures != nil {
			figs = append(figs, r.Figures)
		}
	}
	if len(figs) == 0 {
		c.Status = results.StatusFailed
		c.Failures = []string{"rep 1: " + c.Reps[0].Error}
		return
	}
	h := record.New()
	m := &results.Merged{Reps: len(figs), PerCall: figs[0].PerCall, Throughput: results.Stat{Median: figs[0].Throughput}}
	for _, f := range figs {
		d, _ := record.Decode(f.Hist)
		h.Merge(d)
		m.Errors += f.Errors
		if f.Errors > 0 {
			m.ErrorsByCode = f.ErrorsByCode
			c.Status = results.StatusErrors
		}
	}
	m.Latency, m.Hist = h.Summary(), figs[0].Hist
	if figs[0].UncorrectedHist != "" {
		m.Uncorrected, m.UncorrHist = figs[0].Uncorrected, figs[0].UncorrectedHist
	}
	for _, r := range c.Reps {
		if r.Sweep != nil {
			m.CapacityRate, m.SustainedRate = r.Sweep.CapacityRate, r.Sweep.SustainedRate
		}
	}
	c.Merged = m
}

func TestBenchFormatReadsWithBenchfmt(t *testing.T) {
	run := fakeRun(t)
	var buf bytes.Buffer
	if err := BenchFormat(&buf, run); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(bytes.NewReader(buf.Bytes()), "bench.txt")
	n := 0
	names := map[string]bool{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("benchfmt: %v", rec)
		case *benchfmt.Result:
			n++
			names[string(rec.Name)] = true
			if rec.Iters <= 0 {
				t.Errorf("%s: N = %d", rec.Name, rec.Iters)
			}
			base, parts := rec.Name.Parts()
			if string(base) != "RPC" || len(parts) < 7 || !strings.HasPrefix(string(parts[0]), "/transport=") {
				t.Errorf("name %s parsed as %s %q", rec.Name, base, parts)
			}
			units := map[string]float64{}
			for _, v := range rec.Values {
				units[v.Unit] = v.Value
			}
			// benchfmt normalises "ns" units to seconds.
			for _, u := range []string{"sec/op", "p50-sec", "p99-sec", "p99.9-sec", "calls/s", "client-cpu-sec/op", "server-cpu-sec/op", "client-allocs/op", "wire-out-B/op", "wire-in-B/op", "errors"} {
				if _, ok := units[u]; !ok {
					t.Errorf("%s: no %s (have %v)", rec.Name, u, units)
				}
			}
			if got, want := units["sec/op"]*float64(rec.Iters), 1.0; got < 0.99*want || got > 1.01*want {
				t.Errorf("%s: ns/op × N = %v s, want the 1 s window", rec.Name, got)
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	// 2+2+2 closed reps (the failed cell has none), 1 open, 1 probe + 4
	// sweep steps, 3 network profiles.
	if n != 15 {
		t.Errorf("%d results, want 15:\n%s", n, buf.String())
	}
	if !names["RPC/transport=tcp/codec=proto/compression=none/payload=Small/conc=64/conns=1/load=sweep/rate=50000"] {
		t.Errorf("sweep step missing: %v", names)
	}
}

func TestHgrm(t *testing.T) {
	h := record.New()
	for v := int64(1); v <= 10000; v++ {
		h.Record(v * 1000)
	}
	var buf bytes.Buffer
	if err := WriteHgrm(&buf, h); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Scan()
	if sc.Text() != "#[Value unit: microseconds (µs); recorded in nanoseconds]" {
		t.Fatalf("first line %q does not state the unit", sc.Text())
	}
	sc.Scan()
	if f := strings.Fields(sc.Text()); strings.Join(f, " ") != "Value Percentile TotalCount 1/(1-Percentile)" {
		t.Fatalf("header %q", sc.Text())
	}
	rows, lastCount := 0, int64(0)
	var footer []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			footer = append(footer, line)
		default:
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Fatalf("row %q", line)
			}
			v, err1 := strconv.ParseFloat(f[0], 64)
			p, err2 := strconv.ParseFloat(f[1], 64)
			c, err3 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil || p < 0 || p > 1 || c < lastCount || v < 1 || v > 10010 {
				t.Fatalf("row %q", line)
			}
			lastCount = c
			rows++
		}
	}
	if rows < 20 || lastCount != 10000 {
		t.Errorf("%d rows, last count %d", rows, lastCount)
	}
	if len(footer) != 3 || !regexp.MustCompile(`Max\s+=\s+100\d\d\.\d+, Total count\s+=\s+10000`).MatchString(footer[1]) {
		t.Errorf("footer %q (values must be in µs)", footer)
	}
}

func TestMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := Markdown(&buf, fakeRun(t)); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## ⚠ Problems",
		"**ERRORS** `transport=unix/codec=proto/compression=none/payload=Small/conc=1/conns=1/load=closed`: 3 calls failed (unavailable: 3)",
		"**FAILED** `transport=unix/codec=proto/compression=none/payload=Small/conc=64/conns=1/load=closed`: rep 1: server exited",
		"| cell | status | calls/s | ×ref | p50 | p99 | p99.9 |",
		"tcp c=64 | ok | **150.0k** | 1.00 |",
		"## Verdict",
		`<a id="cell-transport-tcp_codec-proto_compression-none_payload-Small_conc-64_conns-1_load-closed"></a>tcp c=64 | ok |`,
		"## Rate sweeps",
		"## Network profiles",
		"| tcp c=2 closed | 39.6µs | 435.7µs | 11.00× | 1.0k | 1.0k | 1.00× |",
		"### wan (rtt=30ms,rate=100Mbit)",
		"| 1.0k | 0 | 0 / 3 |",
		"## Open-loop cells",
		"## Manifest",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	run := fakeRun(t)
	if err := WriteAll(dir, run); err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		_, err := os.Stat(filepath.Join(dir, "hgrm", FileName(c.Key)+".hgrm"))
		if c.Ran() != (err == nil) {
			t.Errorf("%s: ran %v, hgrm %v", c.Key, c.Ran(), err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "hgrm", FileName(run.Cells[4].Key)+".uncorrected.hgrm")); err != nil {
		t.Error("open-loop cell has no uncorrected .hgrm")
	}
}

// TestHTMLRendersInChromium opens report.html in headless Chromium and
// checks that every chart drew: the page's own script counts the SVG
// charts with a non-empty box and data marks.
func TestHTMLRendersInChromium(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := WriteFile(path, func(w io.Writer) error { return HTML(w, fakeRun(t)) }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("http://")) && !bytes.Contains(b, []byte(`xmlns="http://www.w3.org/2000/svg"`)) || bytes.Contains(b, []byte("https://")) || bytes.Contains(b, []byte("<script src")) || bytes.Contains(b, []byte("<link")) {
		t.Error("report.html refers to the network")
	}
	expected, rendered, err := RenderCheck(context.Background(), path)
	if err == ErrNoBrowser {
		testenv.Missing(t, "chromium", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	if expected < 8 || rendered != expected {
		t.Fatalf("charts: %d rendered of %d expected", rendered, expected)
	}
	// Every cell row with a series has its small chart, and the check
	// counts them among the charts that must draw.
	sparks := bytes.Count(b, []byte(`<svg class="chart spark"`))
	if sparks < 5 || expected < 8+sparks {
		t.Errorf("%d small charts of the windows; %d charts expected in all", sparks, expected)
	}
}

// TestSingularCounts: a count of one takes the singular noun ("over 1
// repetition", "1 cell not applicable").
func TestSingularCounts(t *testing.T) {
	run := fakeRun(t)
	run.Manifest.Spec.Repetitions = 1
	skipped := *run.Cells[0]
	skipped.Key, skipped.Status, skipped.SkipReason = "skipped-cell", results.StatusSkipped, "not applicable here"
	run.Cells = append(run.Cells, &skipped)
	var b bytes.Buffer
	if err := Markdown(&b, run); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"medians over 1 repetition run interleaved", "<summary>1 cell not applicable</summary>"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, " 1 repetitions") || strings.Contains(md, " 1 cells") || strings.Contains(md, " 1 calls") {
		t.Error("report.md has a count of 1 with a plural noun")
	}
}
