package runner_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
	"rpcbench/internal/testenv"
	"rpcbench/targets/greeter"
	_ "rpcbench/targets/grpctarget"
	_ "rpcbench/targets/httptarget"
)

// TestExampleGreeterSpec runs specs/example-greeter.yaml, with shorter
// windows, against the example service served over gRPC (with reflection)
// and HTTP/JSON by this test: every cell runs through the relay or not,
// both servers see the templated requests, the server's costs are
// unknown, and the reports say so.
func TestExampleGreeterSpec(t *testing.T) {
	sp, yaml, err := spec.ReadFile("../../specs/example-greeter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gs, hs := &greeter.Service{Record: true}, &greeter.Service{Record: true}
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer greeter.ServeGRPC(gs, gl).Stop()
	defer greeter.ServeHTTP(hs, hl).Close()
	retarget := func(name, url string) {
		d := sp.Targets[name]
		d.URL = url
		sp.Targets[name] = d
	}
	retarget("greeter-grpc", "grpc://"+gl.Addr().String())
	retarget("greeter-http", "http://"+hl.Addr().String()+greeter.HTTPPath)
	sp.Repetitions, sp.Warmup, sp.Duration, sp.Pin = 1, spec.Duration(50e6), spec.Duration(200e6), "off"
	root := t.TempDir()
	run, dir, err := runner.Run(context.Background(), runner.Options{Spec: sp, SpecYAML: yaml, ResultsRoot: root, WriteReports: report.WriteAll})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) != 9 {
		t.Fatalf("%d cells, want 2 targets × 2 concurrencies × 2 profiles and the generator ceiling", len(run.Cells))
	}
	for _, c := range run.Cells[:8] {
		p := c.Merged.PerCall
		if c.Status != results.StatusOK || c.Merged.Throughput.Median <= 0 || p.ClientCPUNs <= 0 || p.WireOut <= 0 || p.WireIn <= 0 {
			t.Errorf("%s: %s %v %+v", c.Key, c.Status, c.Failures, c.Merged)
		}
		if p.ServerUnknown == "" || p.ServerCPUNs != 0 {
			t.Errorf("%s: server figures %+v, want unknown", c.Key, p)
		}
		if !strings.HasPrefix(c.Key, "target="+c.Params.Target+"/conc=") {
			t.Errorf("key %s", c.Key)
		}
		if c.Params.Profile != nil && (len(c.Reps) == 0 || c.Reps[0].Relay == nil || c.Reps[0].Relay.Bytes == 0) {
			t.Errorf("%s: no traffic through the relay", c.Key)
		}
	}
	for name, s := range map[string]*greeter.Service{"grpc": gs, "http": hs} {
		names := s.Names()
		if len(names) < 100 || s.Calls() < 100 {
			t.Errorf("%s server: %d calls, %d distinct names: templates not rendered per call", name, s.Calls(), len(names))
		}
		for n := range names {
			if !strings.HasPrefix(n, "user") {
				t.Fatalf("%s server saw name %q", name, n)
			}
		}
		for _, md := range s.Metadata()[:10] {
			if v := md.Get(map[string]string{"grpc": "tenant", "http": "x-tenant"}[name]); len(v) != 1 || v[0] != "example" {
				t.Errorf("%s metadata %v", name, md)
			}
		}
	}
	if len(run.Manifest.Targets) != 2 || !strings.Contains(run.Manifest.Targets["greeter-grpc"]["types"], "greet.v1.HelloRequest") {
		t.Errorf("manifest targets %v", run.Manifest.Targets)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "## External targets") || !strings.Contains(string(md), "— (external target") {
		t.Errorf("report.md lacks the external targets section: %v", err)
	}
	overview := "| greeter-grpc | grpc://" + gl.Addr().String() + " | /greet.v1.Greeter/SayHello | gRPC unary calls |"
	if !strings.Contains(string(md), overview) || !strings.Contains(string(md), "| greeter-http | http://"+hl.Addr().String()+greeter.HTTPPath+" | POST "+greeter.HTTPPath+" |") {
		t.Errorf("report.md does not say what each target is:\n%s", md)
	}

	// report.html, as Chromium shows it: the section names each target,
	// its URL and call, and shows every target cell's server as unknown.
	dom, err := report.RenderDOM(context.Background(), filepath.Join(dir, "report.html"))
	if errors.Is(err, report.ErrNoBrowser) {
		testenv.Missing(t, "chromium", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(dom), `<h2 id="external-targets">External targets</h2>`)
	if !ok {
		t.Fatal("report.html has no External targets section")
	}
	for _, want := range []string{"greeter-grpc", "grpc://" + gl.Addr().String(), "greet.v1.Greeter/SayHello", "greeter-http", "POST " + greeter.HTTPPath, "Client-side costs per call"} {
		if !strings.Contains(section, want) {
			t.Errorf("the External targets section lacks %q", want)
		}
	}
	if n := strings.Count(section, "<td>— (external target"); n != 8 {
		t.Errorf("%d target cells show the server as unknown, want 8", n)
	}
}

// A target that cannot be reached fails the run before any cell runs.
func TestUnreachableTargetFailsTheRun(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	sp, err := spec.Parse([]byte("name: x\npin: \"off\"\ntargets:\n  dead: {url: \"http://" + addr + "/\"}\ndimensions:\n  target: [dead]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = runner.Run(context.Background(), runner.Options{Spec: sp, NoWrite: true})
	if err == nil || !strings.Contains(err.Error(), "target dead: http target "+addr+" unreachable") {
		t.Fatalf("err = %v", err)
	}
}
