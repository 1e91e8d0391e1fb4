//go:build unix

package sysmon

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

var errUptime = errors.New("host up too long: the runtime would print a schedtrace line")

func uptime() (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}

func reexec(env []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("re-executing with GODEBUG=%s: %w", Setting, err)
	}
	err = syscall.Exec(exe, os.Args, env)
	return fmt.Errorf("re-executing with GODEBUG=%s: %w", Setting, err)
}
