package testbin_test

import (
	"os/exec"
	"strings"
	"testing"

	"rpcbench/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// The binary is built once: both calls name one file, and it runs.
func TestRpcbenchBuildsOnce(t *testing.T) {
	first, second := testbin.Rpcbench(t), testbin.Rpcbench(t)
	if first != second {
		t.Fatalf("two builds: %s and %s", first, second)
	}
	out, err := exec.Command(first, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rpcbench") {
		t.Fatalf("rpcbench version: %v\n%s", err, out)
	}
}
