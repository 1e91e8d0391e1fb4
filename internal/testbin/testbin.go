// Package testbin builds the rpcbench command for tests that run it as a
// process: once per test binary, into a temporary directory that Main
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
	once sync.Once
	path string
	err  error
}

// Rpcbench returns the path of the rpcbench binary built from
// rpcbench/cmd/rpcbench, building it on the first call. Under -short it
// skips the test: building takes seconds. Safe for concurrent use.
func Rpcbench(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rpcbench binary")
	}
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "rpcbench-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "rpcbench")
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

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// Main runs the tests and then removes the binary Rpcbench built; a
// package whose tests call Rpcbench calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}
