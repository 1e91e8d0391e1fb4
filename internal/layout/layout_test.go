package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "rpcbench"

// pkg is what `go list -json` says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Error        *struct{ Err string }
	DepsErrors   []struct{ Err string }
}

// listModule returns what `go list -e -json ./...` says at the module
// root; it runs once per test binary.
func listModule(t *testing.T) map[string]*pkg {
	t.Helper()
	pkgs, err := listOnce()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

var listOnce = sync.OnceValues(goList)

func goList() (map[string]*pkg, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the layout test needs the go command: %w", err)
	}
	root, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m: %w", err)
	}
	if err := touchSources(strings.TrimSpace(string(root))); err != nil {
		return nil, err
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Deps,Error,DepsErrors", "./...")
	cmd.Dir = strings.TrimSpace(string(root))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 10 || pkgs[module] == nil {
		return nil, fmt.Errorf("go list found %d packages, not the module %s", len(pkgs), module)
	}
	return pkgs, nil
}

// touchSources stats every Go file and go.mod under root. go test caches a
// passing result until a file the test opened or stat-ed changes, and it
// cannot see what the go list child reads: without this, a change of
// imports elsewhere would not rerun the test.
func touchSources(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "results") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod") {
			_, err = os.Stat(path)
		}
		return err
	})
}

// under reports whether path is dir or below it (dir "" is the root
// package alone).
func under(path, dir string) bool {
	if dir == "" {
		return path == module
	}
	d := module + "/" + dir
	return path == d || strings.HasPrefix(path, d+"/")
}

// internal keeps the module's own packages of paths.
func internal(paths []string) []string {
	var out []string
	for _, p := range paths {
		if p == module || strings.HasPrefix(p, module+"/") {
			out = append(out, p)
		}
	}
	return out
}

func TestNoLoadErrors(t *testing.T) {
	for _, p := range listModule(t) {
		if p.Error != nil {
			t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		for _, e := range p.DepsErrors {
			t.Errorf("%s: %s", p.ImportPath, e.Err)
		}
	}
}

// The framework and the peers sit below the harness: neither they nor
// their tests import it.
func TestNothingBelowImportsHarness(t *testing.T) {
	below := []string{"", "peers", "transports", "services", "discovery", "cluster", "target", "cost", "codecs", "wire", "wirestats"}
	checked := 0
	for path, p := range listModule(t) {
		if !slices.ContainsFunc(below, func(d string) bool { return under(path, d) }) {
			continue
		}
		checked++
		for _, list := range [][]string{p.Deps, p.TestImports, p.XTestImports} {
			for _, imp := range list {
				if under(imp, "harness") {
					t.Errorf("%s depends on %s", path, imp)
				}
			}
		}
	}
	if checked < len(below) {
		t.Fatalf("checked %d packages, fewer than the %d trees named", checked, len(below))
	}
}

// External targets are plug-ins the harness loads: they link nothing of
// it. Only their tests drive them with the load engine, through the one
// helper targets/targettest, which may use harness/load and what it
// returns (harness/record) and nothing else of the harness.
func TestTargetsBelowHarness(t *testing.T) {
	const helper = module + "/targets/targettest"
	engine := []string{module + "/harness/load", module + "/harness/record"}
	found := false
	for path, p := range listModule(t) {
		if !under(path, "targets") {
			continue
		}
		found = true
		if path == helper {
			for _, d := range p.Deps {
				if under(d, "harness") && !slices.Contains(engine, d) {
					t.Errorf("%s depends on %s; it may use only %v", path, d, engine)
				}
			}
			continue
		}
		for _, d := range p.Deps {
			if under(d, "harness") {
				t.Errorf("%s depends on %s: a target must not link the harness that loads it", path, d)
			}
		}
		for _, list := range [][]string{p.TestImports, p.XTestImports} {
			for _, d := range list {
				if under(d, "harness") && d != module+"/harness/load" {
					t.Errorf("%s's tests import %s; they may drive the target only with harness/load", path, d)
				}
			}
		}
	}
	if !found {
		t.Fatal("no package under rpcbench/targets")
	}
}

func TestTargetIsALeaf(t *testing.T) {
	p := listModule(t)[module+"/target"]
	if p == nil {
		t.Fatal("no package rpcbench/target")
	}
	if deps := internal(p.Deps); len(deps) > 0 {
		t.Errorf("rpcbench/target depends on %v; it must import nothing of rpcbench", deps)
	}
}

func TestPeersImportOnlyTheirContract(t *testing.T) {
	allowed := []string{module + "/target", module + "/codecs/benchmsg", module + "/transports/tlsconf"}
	found := false
	for path, p := range listModule(t) {
		if !under(path, "peers") {
			continue
		}
		found = true
		for _, d := range internal(p.Imports) {
			if !slices.Contains(allowed, d) && !under(d, "peers") {
				t.Errorf("%s imports %s; peers may use only %v", path, d, allowed)
			}
		}
		// Through benchmsg a peer links the codec registry, never the core
		// or a transport: a baseline must not run on what it is measured
		// against.
		for _, d := range internal(p.Deps) {
			if d == module || under(d, "transports") && d != module+"/transports/tlsconf" {
				t.Errorf("%s depends on %s: a peer must not link rpcbench's core or transports", path, d)
			}
		}
	}
	if !found {
		t.Fatal("no package under rpcbench/peers")
	}
}

func TestRootLinksNoBenchmarkMessages(t *testing.T) {
	// The binary codec, which knows only the benchmark messages, lives
	// beside them and registers itself when they are linked.
	if slices.Contains(listModule(t)[module].Deps, module+"/codecs/benchmsg") {
		t.Error("rpcbench depends on rpcbench/codecs/benchmsg: the core links the benchmark's message set")
	}
}

// Codecs that know only the benchmark messages, and their libraries,
// register themselves from packages of their own: the core links none.
func TestRootLinksNoBenchmarkCodecLibrary(t *testing.T) {
	for _, d := range listModule(t)[module].Deps {
		for _, lib := range []string{"github.com/google/flatbuffers", "github.com/apache/thrift", module + "/codecs/flatbuf", module + "/codecs/thriftcodec"} {
			if d == lib || strings.HasPrefix(d, lib+"/") {
				t.Errorf("rpcbench depends on %s", d)
			}
		}
	}
}

func TestClusterLinksNoTransportLibrary(t *testing.T) {
	p := listModule(t)[module+"/cluster"]
	if p == nil {
		t.Fatal("no package rpcbench/cluster")
	}
	for _, lib := range []string{"github.com/quic-go/quic-go", "github.com/valyala/fasthttp", "github.com/panjf2000/gnet"} {
		if i := slices.IndexFunc(p.Deps, func(d string) bool { return d == lib || strings.HasPrefix(d, lib+"/") }); i >= 0 {
			t.Errorf("rpcbench/cluster depends on %s", p.Deps[i])
		}
	}
}

// Transports register themselves when linked: a package that looks one up
// by a name from a flag or a spec must link them all.
func TestNamedTransportsAreLinked(t *testing.T) {
	pkgs := listModule(t)
	for _, path := range []string{"cmd/rpcbench", "harness/spec", "harness/runner", "harness/remote", "harness/resilience"} {
		p := pkgs[module+"/"+path]
		if p == nil {
			t.Errorf("no package %s/%s", module, path)
			continue
		}
		if !slices.Contains(p.Imports, module+"/transports/all") {
			t.Errorf("%s/%s chooses transports by name but does not import rpcbench/transports/all", module, path)
		}
	}
}

// The Kubernetes API modules serve the test of deploy/kubernetes's
// manifests and nothing else: no package links them, no other test
// imports them.
func TestKubernetesModulesOnlyCheckManifests(t *testing.T) {
	isK8s := func(d string) bool { return strings.HasPrefix(d, "k8s.io/") || strings.HasPrefix(d, "sigs.k8s.io/") }
	pkgs := listModule(t)
	manifests := pkgs[module+"/deploy/kubernetes"]
	if manifests == nil {
		t.Fatal("no package rpcbench/deploy/kubernetes")
	}
	if !slices.ContainsFunc(manifests.XTestImports, isK8s) {
		t.Error("rpcbench/deploy/kubernetes's test imports no k8s.io module: this rule checks nothing")
	}
	for path, p := range pkgs {
		if i := slices.IndexFunc(p.Deps, isK8s); i >= 0 {
			t.Errorf("%s depends on %s", path, p.Deps[i])
		}
		if path == manifests.ImportPath {
			continue
		}
		for _, list := range [][]string{p.TestImports, p.XTestImports} {
			if i := slices.IndexFunc(list, isK8s); i >= 0 {
				t.Errorf("%s's tests import %s; only rpcbench/deploy/kubernetes's may", path, list[i])
			}
		}
	}
}
