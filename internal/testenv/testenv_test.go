package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingFailsWhenRequired runs a test that lacks a tool in a child
// process, with and without CI's settings: it must skip on its own and fail
// in CI.
func TestMissingFailsWhenRequired(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Missing(t, "etcd", "apt-get install etcd-server")
		return
	}
	for _, c := range []struct {
		env  []string
		fail bool
	}{
		{[]string{"CI=", "RPCBENCH_REQUIRE_ETCD="}, false},
		{[]string{"CI=1", "RPCBENCH_REQUIRE_ETCD="}, true},
		{[]string{"CI=", "RPCBENCH_REQUIRE_ETCD=1"}, true},
		{[]string{"CI=false", "RPCBENCH_REQUIRE_ETCD=0"}, false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsWhenRequired$", "-test.v")
		cmd.Env = append(append(os.Environ(), "TESTENV_CHILD=1"), c.env...)
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != c.fail || (!failed && !strings.Contains(string(out), "SKIP")) {
			t.Errorf("%v: failed %v, want %v:\n%s", c.env, failed, c.fail, out)
		}
	}
}
