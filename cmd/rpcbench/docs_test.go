package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/harness/spec"
	"rpcbench/internal/testenv"
	"rpcbench/transports/admit"
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
	files := committedResults(t)
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
	reports := committedFiles(t, "report.md")
	if len(reports) == 0 {
		t.Fatal("no committed reports")
	}
	tracked := trackedFiles(t)
	for _, r := range reports {
		b, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		if hgrms := tracked[filepath.Join(filepath.Dir(r), "hgrm")]; len(hgrms) > 0 {
			checkHgrms(t, filepath.Dir(r), hgrms)
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

// trackedFiles lists the files git tracks under results/, by directory
// (paths as the tests open them, from the package directory). Runs made
// on this machine (results/latest, results/<time>-default) are ignored by
// git and must not stand in for the committed ones. Without git or a
// checkout there is nothing to tell them apart: testenv.Missing.
func trackedFiles(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git", "the committed runs are those git tracks (apt-get install git)")
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--", "results/").Output()
	if err != nil {
		testenv.Missing(t, "git", fmt.Sprintf("git ls-files results/ in %s: %v (not a git checkout?)", root, err))
	}
	dirs := map[string][]string{}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if f != "" {
			p := filepath.Join(root, filepath.FromSlash(f))
			dirs[filepath.Dir(p)] = append(dirs[filepath.Dir(p)], filepath.Base(p))
		}
	}
	return dirs
}

// committedFiles returns results/*/name for each committed run directory
// that tracks name.
func committedFiles(t *testing.T, name string) []string {
	t.Helper()
	var files []string
	for dir, names := range trackedFiles(t) {
		if filepath.Dir(dir) == filepath.Join("..", "..", "results") && slices.Contains(names, name) {
			files = append(files, filepath.Join(dir, name))
		}
	}
	slices.Sort(files)
	return files
}

// committedResults returns the results file of each committed run
// directory, plain or gzipped.
func committedResults(t *testing.T) []string {
	t.Helper()
	files := append(committedFiles(t, results.File), committedFiles(t, results.File+".gz")...)
	slices.Sort(files)
	return files
}

// checkHgrms: a committed hgrm/ holds exactly the files 'rpcbench report'
// writes for the run beside it, one per cell that ran (and one more, the
// uncorrected one, per open-loop cell).
func checkHgrms(t *testing.T, dir string, got []string) {
	t.Helper()
	run, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range run.Cells {
		if !c.Ran() {
			continue
		}
		if c.Merged.Hist != "" {
			want = append(want, report.FileName(c.Key)+".hgrm")
		}
		if c.Merged.UncorrHist != "" {
			want = append(want, report.FileName(c.Key)+".uncorrected.hgrm")
		}
	}
	slices.Sort(want)
	got = slices.Sorted(slices.Values(got))
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("%s/hgrm holds %d files, want one per cell of results.json (%d): missing %v, extra %v", dir, len(got), len(want), minus(want, got), minus(got, want))
	}
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestMakeTestRunsSetup: 'make test' installs what the tests need
// (scripts/setup.sh) before running them.
func TestMakeTestRunsSetup(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		testenv.Missing(t, "make", "apt-get install make")
	}
	out, err := exec.Command("make", "-n", "-C", filepath.Join("..", ".."), "test").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	setup, test := -1, -1
	for i, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.Contains(line, "scripts/setup.sh") && setup < 0:
			setup = i
		case strings.Contains(line, " test ") && strings.Contains(line, "-race") && test < 0:
			test = i
		}
	}
	if setup < 0 || test < 0 || setup > test {
		t.Errorf("make test does not run scripts/setup.sh before go test (lines %d, %d):\n%s", setup, test, out)
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

// TestLimitsTableDefaults: the defaults the README's limits table quotes
// are the ones transports/admit applies.
func TestLimitsTableDefaults(t *testing.T) {
	_, table, ok := strings.Cut(readDoc(t, "README.md"), "| bound | default | flag | applies to |")
	table, _, _ = strings.Cut(table, "\n\n")
	if !ok {
		t.Fatal("README.md has no limits table")
	}
	mib := func(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
	want := map[string]string{ // the row's bound → its default
		"open connections per listener":                  fmt.Sprint(admit.DefaultMaxConns),
		"open connections per source IP":                 fmt.Sprint(admit.DefaultMaxConnsPerAddr),
		"time for a started frame to arrive":             strings.Replace(admit.DefaultFrameTimeout.String(), "s", " s", 1),
		"memory for frames being received, per listener": mib(admit.DefaultMaxInProgress),
		"the same per connection":                        mib(admit.DefaultMaxInProgressPerConn),
	}
	for _, line := range strings.Split(table, "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 4 {
			continue
		}
		bound, def := strings.TrimSpace(cols[1]), strings.TrimSpace(cols[2])
		w, ok := want[bound]
		if !ok {
			continue
		}
		delete(want, bound)
		if def != w {
			t.Errorf("README.md: %s defaults to %q, the code to %q", bound, def, w)
		}
	}
	for bound := range want {
		t.Errorf("README.md's limits table has no row %q", bound)
	}
}
