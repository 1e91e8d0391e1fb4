package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"rpcbench/internal/sysmon"
)

// bench re-executes itself with sysmon kept awake and records it in the
// manifest, unless GODEBUG sets schedtrace itself or the host has been up
// so long that the runtime would print a trace line.
func TestBenchKeepsSysmonAwake(t *testing.T) {
	want := sysmon.Setting
	if strings.Contains(os.Getenv("GODEBUG"), "schedtrace=") {
		want = ""
	}
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		if up, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64); err == nil && up > 2147483.647-86400 {
			want = ""
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if out, errOut, code := runBinary(t, "bench", "--duration", "100ms", "--warmup", "20ms", "--concurrency", "1", "--out", dir, "--progress", "never"); code != 0 {
		t.Fatalf("bench: exit %d\n%s\n%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var run struct {
		Manifest struct {
			Pinning struct {
				GODEBUG string `json:"godebug"`
			} `json:"pinning"`
		} `json:"manifest"`
	}
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if got := run.Manifest.Pinning.GODEBUG; got != want {
		t.Fatalf("manifest pinning.godebug = %q, want %q", got, want)
	}
}
