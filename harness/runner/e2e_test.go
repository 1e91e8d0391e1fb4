package runner_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/internal/rabbitmq"
	"rpcbench/internal/testbin"
	"rpcbench/internal/testenv"
)

func TestMain(m *testing.M) { testbin.Main(m) }

const tinySpec = `
name: tiny
repetitions: 2
warmup: 50ms
duration: 200ms
sweep:
  rates: ["500", "1000"]
  p99_bound: 100ms
  step_warmup: 50ms
  step_duration: 200ms
  probe: 100ms
groups:
  - name: closed
    dimensions:
      transport: [tcp, unix]
      codec: [proto]
      payload: [Small]
      concurrency: [4]
  - name: codecs
    dimensions:
      transport: [tcp]
      codec: [proto, raw]
      payload: [Small, Bytes(64)]
      concurrency: [4]
  - name: open
    dimensions:
      transport: [tcp]
      codec: [json]
      concurrency: [8]
      load: ["open@1000", sweep]
`

// TestEndToEnd builds the rpcbench binary, runs a tiny matrix through real
// server processes, and checks every output file.
func TestEndToEnd(t *testing.T) {
	bin := testbin.Rpcbench(t)
	tmp := t.TempDir()
	specPath := filepath.Join(tmp, "tiny.yaml")
	os.WriteFile(specPath, []byte(tinySpec), 0o644)
	root := filepath.Join(tmp, "results")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--matrix", specPath, "--results", root, "--progress", "never")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	t.Logf("%s", out)

	dir, err := filepath.EvalSymlinks(filepath.Join(root, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dir, "-tiny") {
		t.Errorf("run directory %s", dir)
	}
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := run.Manifest
	if m.Spec == nil || m.SpecYAML != tinySpec || m.Cores < 1 || m.GoVersion == "" || len(m.Modules) == 0 || m.ServerMode != "process" {
		t.Errorf("manifest %+v", m)
	}
	if m.Cores >= 2 && (!m.Pinning.Enabled || m.Pinning.ServerCPUsSeen != m.Pinning.ServerCPUs) {
		t.Errorf("pinning %+v", m.Pinning)
	}
	if m.GeneratorCeiling == nil {
		t.Error("no generator ceiling")
	}
	// closed: 2; codecs: proto Small is shared with closed, proto and raw
	// Bytes(64), raw Small not applicable; open: 2; generator: 1; pacer: 1.
	if m.PacerCeiling == nil || m.PacerCeiling.TopRate <= 0 {
		t.Errorf("pacer ceiling %+v", m.PacerCeiling)
	}
	if len(run.Cells) != 9 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	ran := 0
	for _, c := range run.Cells {
		if c.Status == results.StatusSkipped {
			if c.Params.Codec != "raw" || c.Params.Payload != "Small" {
				t.Errorf("%s skipped: %s", c.Key, c.SkipReason)
			}
			continue
		}
		ran++
		// A loaded test machine may make the pacer late (flagged, not an
		// error); anything else is.
		if c.Status != results.StatusOK && c.Status != results.StatusBehind {
			t.Errorf("%s: %s %q %v", c.Key, c.Status, c.Failures, c.Merged)
			continue
		}
		if len(c.Reps) != 2 || c.Merged.Reps != 2 || c.Merged.Throughput.Median <= 0 || c.Merged.Latency.Count == 0 {
			t.Errorf("%s: reps %d merged %+v", c.Key, len(c.Reps), c.Merged)
		}
		if c.Params.Transport.Name == "noop" {
			continue
		}
		for _, rr := range c.Reps {
			p := rr.Figures.PerCall
			// The windows start and end idle, so both ends of each socket
			// count the same bytes.
			if p.WireOut <= 0 || p.WireOut != p.ServerWireIn || p.WireIn != p.ServerWireOut {
				t.Errorf("%s rep %d: wire %+v", c.Key, rr.Rep, p)
			}
			if p.ServerCPUNs <= 0 || p.ClientCPUNs <= 0 || p.ServerAllocs <= 0 || p.ServerPeakRSS == 0 || rr.Figures.Server == nil {
				t.Errorf("%s rep %d: costs %+v", c.Key, rr.Rep, p)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "hgrm", report.FileName(c.Key)+".hgrm")); err != nil {
			t.Error(err)
		}
		switch c.Params.Load.Kind {
		case "open":
			if c.Merged.Uncorrected == nil || c.Reps[0].Figures.Open == nil {
				t.Errorf("%s: no open-loop figures", c.Key)
			}
			if _, err := os.Stat(filepath.Join(dir, "hgrm", report.FileName(c.Key)+".uncorrected.hgrm")); err != nil {
				t.Error(err)
			}
		case "sweep":
			if sw := c.Reps[0].Sweep; sw == nil || len(sw.Steps) == 0 || sw.CapacityRate <= 0 {
				t.Errorf("%s: sweep %+v", c.Key, sw)
			}
		}
	}
	if ran != 8 {
		t.Errorf("%d cells ran, want 8", ran)
	}

	// bench.txt: benchfmt reads one result per repetition (and sweep step).
	b, err := os.ReadFile(filepath.Join(dir, "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(bytes.NewReader(b), "bench.txt")
	n := 0
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("bench.txt: %v", rec)
		case *benchfmt.Result:
			n++
		}
	}
	if n < 8*2+2 {
		t.Errorf("bench.txt has %d results", n)
	}

	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"# rpcbench: tiny", "## closed", "## codecs", "| proto Small |", "## open", "## Rate sweeps", "## Open-loop cells", "## Manifest", "not applicable"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// rpcbench report re-renders the same files from results.json.
	htmlBefore, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	os.Remove(filepath.Join(dir, "report.md"))
	os.RemoveAll(filepath.Join(dir, "hgrm"))
	if out, err := exec.Command(bin, "report", dir).CombinedOutput(); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	md2, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	html2, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !bytes.Equal(md, md2) || !bytes.Equal(htmlBefore, html2) {
		t.Error("re-rendered reports differ")
	}
	if _, err := os.Stat(filepath.Join(dir, "hgrm", report.FileName(run.Cells[0].Key)+".hgrm")); err != nil {
		t.Error("report did not re-write hgrm files")
	}
	expected, rendered, err := report.RenderCheck(ctx, filepath.Join(dir, "report.html"))
	switch {
	case err == report.ErrNoBrowser:
		testenv.Missing(t, "chromium", err.Error())
	case err != nil:
		t.Error(err)
	case rendered != expected || expected < 5:
		t.Errorf("report.html: %d of %d charts rendered", rendered, expected)
	}
}

// TestBrokeredCells runs nats cells (the server process embeds the NATS
// server) and, where RabbitMQ is installed, amqp cells against the node
// the runner starts, whose CPU time joins the server's; the report puts
// them beside tcp.
func TestBrokeredCells(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and starts RabbitMQ")
	}
	transports := "[tcp, nats]"
	withAMQP := rabbitmq.Available() == nil
	switch {
	case withAMQP:
		transports = "[tcp, nats, amqp]"
	case testenv.Required("rabbitmq"):
		testenv.Missing(t, "rabbitmq", rabbitmq.Hint)
	default:
		t.Logf("RabbitMQ is missing (%s): nats cells only", rabbitmq.Hint)
	}
	bin := testbin.Rpcbench(t)
	tmp := t.TempDir()
	specPath := filepath.Join(tmp, "brokers.yaml")
	os.WriteFile(specPath, []byte(`
name: brokers
repetitions: 1
warmup: 50ms
duration: 200ms
generator_ceiling: false
dimensions:
  transport: `+transports+`
  codec: [proto]
  payload: [Small]
  concurrency: [4]
`), 0o644)
	root := filepath.Join(tmp, "results")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "bench", "--matrix", specPath, "--results", root, "--progress", "never").CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(root, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		pc := c.Merged.PerCall
		if c.Status != results.StatusOK || pc.ServerCPUNs <= 0 || pc.WireOut <= 0 {
			t.Errorf("%s: status %s, server CPU %.0f ns/call, wire out %.0f B/call (%q)", c.Key, c.Status, pc.ServerCPUNs, pc.WireOut, c.Failures)
		}
	}
	notes := strings.Join(run.Manifest.Notes, "\n")
	if withAMQP != strings.Contains(notes, "its CPU time is counted in the server's") {
		t.Errorf("amqp cells %v, manifest notes:\n%s", withAMQP, notes)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !bytes.Contains(rep, []byte("### Brokered RPC beside direct TCP")) || !bytes.Contains(rep, []byte("| transport=nats/codec=proto")) {
		t.Errorf("report.md has no brokered table:\n%s", rep)
	}
}
