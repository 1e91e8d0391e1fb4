package main_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var dryRunTotal = regexp.MustCompile(`: (about [^(]+) \(estimated (\S+), server start-ups included\)\n$`)

// TestDocumentedTimes: the time each spec takes has one source, the
// --dry-run estimate. README.md and specs/README.md quote it, and the
// committed runs of the spec took within a quarter of it.
func TestDocumentedTimes(t *testing.T) {
	readme, specs := readDoc(t, "README.md"), readDoc(t, "specs/README.md")
	targets := map[string]string{"default": "bench", "quick": "bench-quick", "network": "bench-network", "gate": "gate"}
	estimates := map[string]time.Duration{}
	for _, name := range []string{"default", "quick", "network", "gate", "full"} {
		out, errOut, code := runBinary(t, "bench", "--matrix", filepath.Join("..", "..", "specs", name+".yaml"), "--dry-run")
		m := dryRunTotal.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("%s: exit %d, no estimate in %q %q", name, code, out[max(0, len(out)-200):], errOut)
		}
		phrase := strings.TrimSpace(m[1])
		estimates[name], _ = time.ParseDuration(m[2])
		row := regexp.MustCompile("(?m)^\\| `" + name + "\\.yaml` \\|.*\\| " + regexp.QuoteMeta(phrase) + "(?: \\||:)")
		if !row.MatchString(specs) {
			t.Errorf("specs/README.md: the %s.yaml row does not quote the dry-run estimate %q", name, phrase)
		}
		if target, ok := targets[name]; ok && !strings.Contains(readme, "`make "+target+"` takes "+phrase) {
			t.Errorf("README.md does not say \"`make %s` takes %s\"", target, phrase)
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "results", "*", "results.json"))
	checked := 0
	for _, f := range files {
		run, err := results.Read(f)
		if err != nil {
			t.Fatal(err)
		}
		est, ok := estimates[run.Manifest.SpecName]
		if !ok || strings.Contains(f, "baseline") { // the baseline pools three runs
			continue
		}
		took := run.Manifest.Finished.Sub(run.Manifest.Started)
		if r := took.Seconds() / est.Seconds(); r < 0.75 || r > 1.25 {
			t.Errorf("%s: the %s spec took %v, the estimate says %v", f, run.Manifest.SpecName, took.Round(time.Second), est)
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("checked the estimate against %d committed runs, want the default and network ones", checked)
	}
}

var benchUnit = regexp.MustCompile(` [0-9.]+ ([^ ]+)`)

// TestBenchUnitsDocumented: every unit bench.txt uses is explained in the
// README's table.
func TestBenchUnitsDocumented(t *testing.T) {
	readme := readDoc(t, "README.md")
	bench := readDoc(t, "results/reference/bench.txt")
	units := map[string]bool{}
	for _, line := range strings.Split(bench, "\n") {
		if !strings.HasPrefix(line, "BenchmarkRPC/") {
			continue
		}
		_, rest, _ := strings.Cut(line, " ")
		_, rest, _ = strings.Cut(rest, " ") // N
		for _, m := range benchUnit.FindAllStringSubmatch(" "+rest, -1) {
			units[m[1]] = true
		}
	}
	if len(units) < 10 {
		t.Fatalf("found only %d units in bench.txt", len(units))
	}
	for u := range units {
		if !strings.Contains(readme, "`"+u+"`") {
			t.Errorf("README.md does not explain the bench.txt unit %q", u)
		}
	}
}

// TestCommittedReportsSayWhereHgrmIs: a committed run without hgrm/ must
// not have a report that says the directory is there without saying how
// to get it; and the README links the results schema.
func TestCommittedReportsSayWhereHgrmIs(t *testing.T) {
	reports, _ := filepath.Glob(filepath.Join("..", "..", "results", "*", "report.md"))
	if len(reports) == 0 {
		t.Fatal("no committed reports")
	}
	for _, r := range reports {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(r), "hgrm")); err == nil {
			continue
		}
		if strings.Contains(string(b), "hgrm/") && !strings.Contains(string(b), "`rpcbench report DIR` writes it") {
			t.Errorf("%s mentions hgrm/, which is not committed beside it, without saying how to write it", r)
		}
	}
	if readme := readDoc(t, "README.md"); !strings.Contains(readme, "(results/schema.json)") {
		t.Error("README.md does not link results/schema.json")
	}
}

// TestSpecKeysDocumented: every key a matrix spec may use appears in
// specs/README.md's format block, with codec marked required.
func TestSpecKeysDocumented(t *testing.T) {
	doc := readDoc(t, "specs/README.md")
	for _, typ := range []reflect.Type{reflect.TypeFor[spec.Spec](), reflect.TypeFor[spec.Group](), reflect.TypeFor[spec.Dimensions](), reflect.TypeFor[spec.Sweep]()} {
		for i := range typ.NumField() {
			key, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			if !regexp.MustCompile(`(?m)^\s*(# )?(- )?` + regexp.QuoteMeta(key) + `:`).MatchString(doc) {
				t.Errorf("specs/README.md does not document the %s key %q", typ.Name(), key)
			}
		}
	}
	if !strings.Contains(doc, "`transport` and `codec` are required") {
		t.Error("specs/README.md does not say that codec is required")
	}
}
