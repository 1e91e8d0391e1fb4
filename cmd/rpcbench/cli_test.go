package main_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
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

// TestReadmeExitCodes: the README's list of exit statuses is the one
// --help prints.
func TestReadmeExitCodes(t *testing.T) {
	out, _, _ := runBinary(t, "--help")
	help := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (\d)  (\w+)(?:: (.*))?$`).FindAllStringSubmatch(out, -1) {
		help[m[1]] = strings.TrimSpace(m[2] + " " + m[3])
	}
	_, para, ok := strings.Cut(readDoc(t, "README.md"), "Exit status, for every command:")
	para, _, _ = strings.Cut(para, "\n\n")
	if !ok || len(help) < 3 {
		t.Fatalf("no exit statuses: README %v, --help %q", ok, out)
	}
	readme := map[string]string{}
	para = strings.Join(strings.Fields(para), " ")
	for _, m := range regexp.MustCompile("`(\\d)` (\\w+)(?: \\(([^)]*)\\))?").FindAllStringSubmatch(para, -1) {
		readme[m[1]] = strings.TrimSpace(m[2] + " " + m[3])
	}
	if !reflect.DeepEqual(help, readme) {
		t.Errorf("README.md's exit statuses differ from --help's:\nREADME %q\n--help %q", readme, help)
	}
}

// TestBadInjectionIsAUsageError: serve refuses a bad RPCBENCH_INJECT in
// one line that lists the valid keys, with status 2, before listening.
func TestBadInjectionIsAUsageError(t *testing.T) {
	cmd := exec.Command(rpcbenchBinary(t), "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "RPCBENCH_INJECT=panic=1")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2", err)
	}
	line := strings.TrimSuffix(e.String(), "\n")
	if o.String() != "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "rpcbench: RPCBENCH_INJECT: ") || !strings.Contains(line, "valid keys: delay, spin, copy") {
		t.Errorf("stdout %q, stderr %q: want one line naming RPCBENCH_INJECT and its valid keys", o.String(), e.String())
	}
}
