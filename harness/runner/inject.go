package runner

import (
	"fmt"
	"os"
)

// InjectTransportEnv names the variable that confines an injected
// regression (RPCBENCH_INJECT, read by every rpcbench server process) to
// the server processes of one transport, so that a run can slow one
// transport while the others, measured interleaved beside it, stay as
// they are: the test of whether compare and the gate see a change of a
// few percent (scripts/detect-proof.sh).
const InjectTransportEnv = "RPCBENCH_INJECT_TRANSPORT"

// injectEnv is the environment a server process of transport gets on top
// of this process's: the injection removed unless it is meant for it.
func injectEnv(transport string) []string {
	only := os.Getenv(InjectTransportEnv)
	if only == "" || only == transport {
		return nil
	}
	return []string{"RPCBENCH_INJECT="}
}

// injectionNote describes an injected regression for the manifest, or "".
func injectionNote() string {
	in := os.Getenv("RPCBENCH_INJECT")
	if in == "" {
		return ""
	}
	where := "every rpcbench server process"
	if only := os.Getenv(InjectTransportEnv); only != "" {
		where = "the server processes of transport " + only
	}
	return fmt.Sprintf("regression injected on purpose: RPCBENCH_INJECT=%q in %s", in, where)
}
