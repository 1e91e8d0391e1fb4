package sysmon

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestKeepReexecutes runs this test binary as a child that calls Keep: it
// comes back re-executed, with the setting in GODEBUG (after the user's)
// and the user's own GODEBUG kept in the marker.
func TestKeepReexecutes(t *testing.T) {
	if os.Getenv("SYSMON_TEST_CHILD") == "1" {
		if err := Keep(); err != nil {
			t.Skip("Keep did not re-execute:", err)
		}
		if !Active() || os.Getenv("GODEBUG") != "x=1,"+Setting || os.Getenv(origEnv) != "x=1" {
			t.Fatalf("after Keep: Active %v, GODEBUG %q, %s %q", Active(), os.Getenv("GODEBUG"), origEnv, os.Getenv(origEnv))
		}
		os.Stdout.WriteString("KEPT\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestKeepReexecutes$", "-test.v")
	cmd.Env = append(os.Environ(), "SYSMON_TEST_CHILD=1", "GODEBUG=x=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "SKIP") {
		t.Skipf("child: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "KEPT") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// A GODEBUG that sets schedtrace itself is left alone.
func TestKeepRespectsUserSchedtrace(t *testing.T) {
	t.Setenv("GODEBUG", "schedtrace=1000")
	if err := Keep(); err == nil {
		t.Fatal("Keep accepted a GODEBUG that sets schedtrace")
	}
}
