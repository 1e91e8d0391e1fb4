package rpcbench_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDeps: the core links the framework's own lower layers only: not
// the benchmark's message set (the binary codec that knows it lives in
// codecs/benchmsg), not the harness, not a transport's libraries.
func TestCoreDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", "rpcbench").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"rpcbench/codecs/benchmsg", "rpcbench/harness", "rpcbench/faults", "github.com/quic-go/", "github.com/valyala/fasthttp", "github.com/panjf2000/gnet"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") || strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned) {
				t.Errorf("package rpcbench depends on %s", dep)
			}
		}
	}
}
