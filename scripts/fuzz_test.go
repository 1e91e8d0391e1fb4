// Package scripts_test runs the repository's shell scripts against
// modules made for the purpose.
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFuzzListFailureFails: a package whose tests do not build has fuzz
// targets nobody can list; fuzz.sh must fail saying so, not fuzz the
// other packages and pass.
func TestFuzzListFailureFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a fresh module")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":            "module fz\n\ngo 1.22\n",
		"good/good.go":      "package good\n",
		"good/good_test.go": "package good\n\nimport \"testing\"\n\nfunc FuzzGood(f *testing.F) { f.Fuzz(func(t *testing.T, b []byte) {}) }\n",
		"bad/bad.go":        "package bad\n",
		"bad/bad_test.go":   "package bad\n\nimport \"testing\"\n\nfunc FuzzBad(f *testing.F) { undefined() }\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs("fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FUZZTIME=1x", "FUZZSHARD=0/1", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "fuzz: listing the targets failed") || !strings.Contains(string(out), "fz/bad") {
		t.Errorf("fuzz.sh with a package that does not build: %v\n%s", err, out)
	}
}
