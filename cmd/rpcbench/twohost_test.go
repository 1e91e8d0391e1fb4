package main_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/results"
	"rpcbench/harness/serverproc"
	"rpcbench/internal/testbin"
)

// rpcbenchBinary builds the rpcbench command once for the package's tests.
func rpcbenchBinary(t *testing.T) string { return testbin.Rpcbench(t) }

func TestMain(m *testing.M) { testbin.Main(m) }

// adminToken is the admin token of the servers serve starts.
const adminToken = "twohost-test-token"

// serve starts "rpcbench serve --admin" (after prefix, e.g. "ip netns
// exec NS") and returns the address it printed. It is killed when the test
// ends.
func serve(t *testing.T, prefix []string, args ...string) string {
	t.Helper()
	return startServe(t, prefix, append([]string{"--admin", "--admin-token", adminToken}, args...)...)
}

// startServe starts "rpcbench serve ARGS" after prefix and returns its
// address.
func startServe(t *testing.T, prefix []string, args ...string) string {
	t.Helper()
	cmd := append(prefix, append([]string{rpcbenchBinary(t), "serve"}, args...)...)
	p, err := serverproc.Start(serverproc.Options{Binary: cmd[0], Args: cmd[1:]})
	if err != nil {
		t.Fatal(err)
	}
	// serve ignores stdin: Stop ends it by killing it after a short wait.
	t.Cleanup(func() { p.Stop(50 * time.Millisecond) })
	return p.Addr
}

// rpcbench runs the binary (after prefix) and fails the test if it fails.
func rpcbench(t *testing.T, ctx context.Context, prefix []string, args ...string) string {
	t.Helper()
	cmd := append(prefix, append([]string{rpcbenchBinary(t)}, args...)...)
	out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, out)
	}
	return string(out)
}

// onlyFigures reads the one measured repetition of a one-cell run.
func onlyFigures(t *testing.T, dir string) (*results.Run, *results.Figures) {
	t.Helper()
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if c.Params.Transport.Name == "noop" {
			continue
		}
		if c.Status != results.StatusOK || len(c.Reps) != 1 || c.Reps[0].Figures == nil {
			t.Fatalf("%s: cell %s %s %v", dir, c.Key, c.Status, c.Failures)
		}
		return run, c.Reps[0].Figures
	}
	t.Fatalf("%s: no cell ran", dir)
	return nil, nil
}

// checkServerCosts checks that a run against a remote server has its
// costs from the admin calls.
func checkServerCosts(t *testing.T, f *results.Figures) {
	t.Helper()
	pc := f.PerCall
	if f.Server == nil || pc.ServerCPUNs <= 0 || pc.ServerAllocs <= 0 || pc.ServerPeakRSS == 0 {
		t.Fatalf("no server costs: %+v", pc)
	}
}

// checkServerBytes checks that the server's socket bytes in a window are
// exactly the client's, the admin calls' bytes taken out: true when one
// load process alone used the server.
func checkServerBytes(t *testing.T, f *results.Figures) {
	t.Helper()
	if f.Server.Wire.ServerIn != f.Client.Wire.ClientOut || f.Server.Wire.ServerOut != f.Client.Wire.ClientIn {
		t.Errorf("server read/wrote %d/%d bytes, the client wrote/read %d/%d", f.Server.Wire.ServerIn, f.Server.Wire.ServerOut, f.Client.Wire.ClientOut, f.Client.Wire.ClientIn)
	}
}
