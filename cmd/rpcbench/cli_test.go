package main_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHelpAndUsage checks the conventions of the command line: help asked
// for goes to stdout with status 0, a wrong command line to stderr with
// status 2, and both document the exit statuses.
func TestHelpAndUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"bench", "--help"}, {"call", "-h"}, {"codecs", "--help"}, {"registry", "list", "--help"}} {
		out, errOut, code := runBinary(t, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "usage: rpcbench") || !strings.Contains(out, "2  usage") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want help on stdout, exit 0", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{}, {"nosuch"}, {"bench", "--matrx", "x"}, {"codecs", "--count"}, {"codecs", "--mesages", "Small"}, {"codecs", "stray"}, {"call"}, {"bench", "--progress", "sometimes", "--dry-run"}} {
		out, errOut, code := runBinary(t, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want a usage error on stderr, exit 2", args, code, out, errOut)
		}
	}
	out, _, _ := runBinary(t, "--help")
	col := -1
	inTable := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "commands:":
			inTable = true
		case inTable && line == "":
			inTable = false
		case inTable:
			name := strings.Fields(line)[0]
			c := strings.Index(line[2+len(name):], strings.Fields(line)[1]) + 2 + len(name)
			if col >= 0 && c != col {
				t.Errorf("command table not aligned: %q starts its summary at %d, others at %d", name, c, col)
			}
			col = c
		}
	}
	if col < 0 {
		t.Fatalf("no command table in %q", out)
	}
}

func TestMisspeltFlagListsValidOnes(t *testing.T) {
	_, errOut, code := runBinary(t, "bench", "--matrx", "specs/quick.yaml")
	if code != 2 || !strings.Contains(errOut, "did you mean --matrix?") || !strings.Contains(errOut, "valid: --admin-token, --broker, --cacert, --call, --calls, ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		out, errOut, code := runBinary(t, arg)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, errOut)
		}
		for _, want := range []string{"rpcbench ", "commit ", "built ", "go       " + runtime.Version()} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q lacks %q", arg, out, want)
			}
		}
	}
}

// TestAdhocSpeaksFlags checks that an ad-hoc cell's problems name the
// flags the user gave, not a spec or group they never wrote, and that
// counts agree with their noun.
func TestAdhocSpeaksFlags(t *testing.T) {
	_, errOut, code := runBinary(t, "bench", "--codec", "jsno", "--conns", "0", "--dry-run")
	if code != 2 || !strings.Contains(errOut, "--codec: ") || !strings.Contains(errOut, "--conns: ") || strings.Contains(errOut, "group") || strings.Contains(errOut, "dimensions") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	out, _, code := runBinary(t, "bench", "--dry-run")
	if code != 0 || !strings.Contains(out, "1 cell to run × 1 repetition and 0 scenario runs") || strings.Contains(out, "main") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

// TestSpecErrorsBeforeRunning checks that the problems of a spec file are
// reported, with file, line, column and key path, before anything runs,
// with or without --dry-run.
func TestSpecErrorsBeforeRunning(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"empty.yaml", "", "empty.yaml: the spec is empty"},
		{"codec.yaml", "groups:\n  - name: a\n    dimensions:\n      transport: [tcp]\n      codec: [json, jsno]\n", "codec.yaml:5:21: groups[0].dimensions.codec[1]: "},
		{"reps.yaml", "repetitions: three\ndimensions: {transport: [tcp], codec: [json]}\n", "reps.yaml:1:14: repetitions: must be a whole number"},
		{"ref.yaml", "reference: codec=xml\ndimensions: {transport: [tcp], codec: [json]}\n", `ref.yaml:1:12: reference: "codec=xml" matches no cell`},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, dry := range []bool{true, false} {
			args := []string{"bench", "--matrix", path, "--out", filepath.Join(dir, "out"), "--progress", "never"}
			if dry {
				args = append(args, "--dry-run")
			}
			out, errOut, code := runBinary(t, args...)
			if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
				t.Errorf("%s (dry-run %v): exit %d, stdout %q, stderr %q, want %q", c.name, dry, code, out, errOut, c.want)
			}
		}
	}
}
