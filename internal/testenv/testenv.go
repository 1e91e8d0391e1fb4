// Package testenv decides what a test does when a tool it runs (etcd,
// curl, chromium) is missing: on a developer's machine it skips, with a
// hint; in CI it fails, so that a missing tool cannot turn a test suite
// green by skipping it.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Required reports whether missing tools fail tests instead of skipping
// them: in CI ($CI set, as CI services and .ci/run do) or when
// $RPCBENCH_REQUIRE_<TOOL> is 1 (e.g. RPCBENCH_REQUIRE_ETCD=1).
func Required(tool string) bool {
	if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
		return true
	}
	return os.Getenv("RPCBENCH_REQUIRE_"+strings.ToUpper(tool)) == "1"
}

// Missing ends the test because tool is not installed: Fatal when the
// tool is Required, Skip otherwise. hint says how to install it.
func Missing(t testing.TB, tool, hint string) {
	t.Helper()
	if Required(tool) {
		t.Fatalf("%s is missing and required here (CI or RPCBENCH_REQUIRE_%s=1): %s", tool, strings.ToUpper(tool), hint)
	}
	t.Skipf("%s is missing: %s", tool, hint)
}
