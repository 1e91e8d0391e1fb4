// Package sysmon keeps the Go runtime's system monitor out of deep sleep
// in the harness's load processes.
//
// When a process's only P goes idle (one call in flight, or a low
// open-loop rate, on the single CPU a load process is pinned to), the
// runtime's sysmon thread sleeps until the next system call wakes it: a
// futex wake and a context switch on that same CPU for every call that
// follows an idle moment (golang/go#18236). At one connection that cost
// the harness's client nearly two context switches per call more than
// wrk's one, and a p50 a fifth higher. The runtime keeps sysmon out of
// deep sleep while GODEBUG schedtrace is set, and reads it only at
// start: Keep re-executes the load process with schedtrace set to its
// longest period. The servers under test keep the runtime's defaults
// (ServerEnv).
package sysmon

import (
	"os"
	"slices"
	"strings"
)

// Setting is what Keep adds to GODEBUG: a trace line every 24.8 days.
const Setting = "schedtrace=2147483647"

// period is Setting's period; the runtime prints its first line once the
// monotonic clock (time since boot) passes it.
const period = 2147483647 * 1e6

// origEnv holds the GODEBUG the process was started with, so servers get
// it back; its presence marks a process Keep re-executed.
const origEnv = "RPCBENCH_SYSMON_GODEBUG"

// Active reports whether this process runs with Setting added by Keep.
func Active() bool {
	_, ok := os.LookupEnv(origEnv)
	return ok
}

// Keep re-executes the running program with Setting added to GODEBUG and
// does not return, unless this process already runs with it, GODEBUG
// sets schedtrace itself, the platform cannot re-execute, or the host has
// been up so long that the first trace line would be printed within a
// day. It returns nil when the setting is in effect, else why not.
func Keep() error {
	if Active() {
		return nil
	}
	orig := os.Getenv("GODEBUG")
	if strings.Contains(orig, "schedtrace=") {
		return errSet
	}
	if up, ok := uptime(); !ok || up > period-86400e9 {
		return errUptime
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
	return reexec(append(env, "GODEBUG="+withSetting(orig), origEnv+"="+orig))
}

func withSetting(godebug string) string {
	if godebug == "" {
		return Setting
	}
	return godebug + "," + Setting
}

// ServerEnv returns env with what Keep added taken out: a server the
// load process starts runs as it would anywhere else.
func ServerEnv(env []string) []string {
	orig, marked := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, origEnv+"="); ok {
			orig, marked = v, true
		}
	}
	if !marked {
		return env
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.HasPrefix(kv, origEnv+"=") || strings.HasPrefix(kv, "GODEBUG=") {
			continue
		}
		out = append(out, kv)
	}
	if orig != "" {
		out = append(out, "GODEBUG="+orig)
	}
	return out
}
