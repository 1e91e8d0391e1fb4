//go:build !unix

package sysmon

import "errors"

var errUptime = errors.New("no monotonic clock reading")

func uptime() (int64, bool) { return 0, false }

func reexec(env []string) error { return errors.New("cannot re-execute on this platform") }
