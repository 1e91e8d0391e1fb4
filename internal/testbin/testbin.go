// Package testbin builds the rpcbench command for tests that run it as a
// process: once per test binary, into a temporary directory that Cleanup
// removes when the tests end.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var binary struct {
	once  sync.Once
	path  string
	built bool // path is ours to remove
	err   error
}

// Rpcbench returns the path of the rpcbench binary: $RPCBENCH_TEST_BIN if
// set, else one built from rpcbench/cmd/rpcbench on the first call (a
// normal build, even when the tests run under the race detector). Under
// -short it skips the test: building takes seconds. Safe for concurrent
// use.
func Rpcbench(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rpcbench binary; skipped with -short")
	}
	binary.once.Do(func() {
		if binary.path = os.Getenv("RPCBENCH_TEST_BIN"); binary.path != "" {
			return
		}
		dir, err := os.MkdirTemp("", "rpcbench-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path, binary.built = filepath.Join(dir, "rpcbench"), true
		out, err := exec.Command("go", "build", "-o", binary.path, "rpcbench/cmd/rpcbench").CombinedOutput()
		if err != nil {
			binary.err = &buildError{err, string(out)}
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string {
	return "go build rpcbench/cmd/rpcbench: " + e.err.Error() + "\n" + e.out
}

// Cleanup removes the binary Rpcbench built, if it built one; a TestMain
// calls it after m.Run.
func Cleanup() {
	if binary.built {
		os.RemoveAll(filepath.Dir(binary.path))
	}
}

// Main runs the tests, then Cleanup: the TestMain of a package whose
// tests call Rpcbench and that needs nothing else at its end.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}
