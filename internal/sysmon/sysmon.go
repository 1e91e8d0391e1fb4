// Package sysmon keeps the Go runtime's system monitor out of deep sleep
// in the processes the harness runs.
//
// The harness pins the load process and each server to CPUs of their
// own, one each on a small machine, with GOMAXPROCS to match. Whenever a
// process's only P goes idle, the runtime's sysmon thread sleeps until the
// next system call wakes it (golang/go#18236): a futex wake and context
// switches on that same CPU after every idle moment, which a process with
// many Ps meets far less often. At one connection that cost the
// harness's client nearly two context switches per call more than wrk's
// one; under load, a quarter of a pinned echo server's CPU went to
// sysmon. The runtime keeps sysmon out of deep sleep while GODEBUG
// schedtrace is set, and reads it only at start: Keep re-executes the
// load process with schedtrace set to its longest period, and the
// servers it starts inherit it. A server the harness did not start (an
// external target, a server on another host) runs as its owner started
// it.
package sysmon

import (
	"errors"
	"os"
	"slices"
	"strings"
)

// Setting is what Keep adds to GODEBUG: a trace line every 24.8 days.
const Setting = "schedtrace=2147483647"

// period is Setting's period; the runtime prints its first line once the
// monotonic clock (time since boot) passes it.
const period = 2147483647 * 1e6

// origEnv holds the GODEBUG the process was started with; its presence
// marks a process Keep re-executed, or one such a process started.
const origEnv = "RPCBENCH_SYSMON_GODEBUG"

var errSet = errors.New("GODEBUG sets schedtrace already")

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
