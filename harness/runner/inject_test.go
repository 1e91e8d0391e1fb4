package runner

import (
	"slices"
	"strings"
	"testing"
)

// An injection confined to one transport is removed from the other
// transports' server processes and recorded in the manifest's notes.
func TestInjectEnv(t *testing.T) {
	t.Setenv("RPCBENCH_INJECT", "spin=2us")
	t.Setenv(InjectTransportEnv, "")
	if env := injectEnv("tcp"); env != nil {
		t.Errorf("unconfined injection: env %q for tcp, want none", env)
	}
	t.Setenv(InjectTransportEnv, "http1")
	if env := injectEnv("http1"); env != nil {
		t.Errorf("http1 is the slowed transport, but its env is %q", env)
	}
	if env := injectEnv("tcp"); !slices.Equal(env, []string{"RPCBENCH_INJECT="}) {
		t.Errorf("tcp keeps the injection: env %q", env)
	}
	if n := injectionNote(); !strings.Contains(n, `"spin=2us"`) || !strings.Contains(n, "transport http1") {
		t.Errorf("note %q", n)
	}
}
