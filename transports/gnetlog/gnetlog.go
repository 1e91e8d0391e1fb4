// Package gnetlog is the logger the gnet engines share: gnet announces
// itself at INFO level on stdout, in the middle of benchmark output and of
// the harness's server stats channel, so only its errors are passed on.
package gnetlog

import "log"

// Quiet forwards gnet's errors to the standard logger, prefixed, and drops
// everything else.
type Quiet struct{ Prefix string }

func (Quiet) Debugf(string, ...any) {}
func (Quiet) Infof(string, ...any)  {}
func (Quiet) Warnf(string, ...any)  {}

func (q Quiet) Errorf(format string, a ...any) { log.Printf(q.Prefix+"gnet: "+format, a...) }
func (q Quiet) Fatalf(format string, a ...any) { log.Fatalf(q.Prefix+"gnet: "+format, a...) }
