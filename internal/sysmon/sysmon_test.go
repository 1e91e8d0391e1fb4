package sysmon

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestServerEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     []string
		godebug string // the server's GODEBUG; "-" for none
	}{
		{"not a re-executed process", []string{"A=1", "GODEBUG=x=1"}, "x=1"},
		{"setting added to nothing", []string{"A=1", "GODEBUG=" + Setting, origEnv + "="}, "-"},
		{"setting added to the user's", []string{"GODEBUG=x=1," + Setting, "A=1", origEnv + "=x=1"}, "x=1"},
	} {
		got := ServerEnv(c.env)
		var godebug []string
		for _, kv := range got {
			if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
				godebug = append(godebug, v)
			}
			if strings.HasPrefix(kv, origEnv+"=") {
				t.Errorf("%s: marker left in %q", c.name, got)
			}
		}
		want := []string{c.godebug}
		if c.godebug == "-" {
			want = nil
		}
		if !slices.Equal(godebug, want) || !slices.Contains(got, "A=1") {
			t.Errorf("%s: ServerEnv(%q) = %q, want GODEBUG %q and A=1 kept", c.name, c.env, got, want)
		}
	}
}

// TestKeepReexecutes runs this test binary as a child that calls Keep: it
// comes back re-executed, with the setting in GODEBUG (after the user's)
// and the marker that ServerEnv undoes.
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
