package rpcbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Regressions can be injected into the server on purpose, to prove that
// the regression gate catches them: RPCBENCH_INJECT="delay=200us,copy=1"
// adds a fixed delay to every call and/or one extra allocation and copy of
// each reply; "spin=3us" busy-waits instead, for slowdowns of a few
// percent that a sleep (tens of microseconds at least) cannot make. It is read once at start-up; SetInjectedDelay changes the
// delay later (the harness's fault schedules make a server slow that way).
// It costs one atomic load per call when unset.
var injected = parseInject(os.Getenv("RPCBENCH_INJECT"))

// injecting is set while any injection is active: the hot path's one check.
var injecting atomic.Bool

func init() { injecting.Store(injected.active()) }

type injection struct {
	delay atomic.Int64 // nanoseconds
	spin  time.Duration
	copy  bool
}

func parseInject(s string) *injection {
	in := new(injection)
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "":
		case "delay":
			d, err := time.ParseDuration(v)
			if err != nil {
				panic(fmt.Sprintf("RPCBENCH_INJECT: bad delay %q: %v", v, err))
			}
			in.delay.Store(int64(d))
		case "spin":
			d, err := time.ParseDuration(v)
			if err != nil {
				panic(fmt.Sprintf("RPCBENCH_INJECT: bad spin %q: %v", v, err))
			}
			in.spin = d
		case "copy":
			in.copy, _ = strconv.ParseBool(v)
		default:
			panic(fmt.Sprintf("RPCBENCH_INJECT: unknown key %q (valid: delay, spin, copy)", k))
		}
	}
	return in
}

func (in *injection) active() bool { return in.delay.Load() > 0 || in.spin > 0 || in.copy }

// SetInjectedDelay sets the delay this process's servers add to every
// call from now on; zero or negative removes it. It is for fault
// injection in benchmarks, never for production.
func SetInjectedDelay(d time.Duration) {
	injected.delay.Store(int64(max(d, 0)))
	injecting.Store(injected.active())
}

// apply slows or bloats one reply as configured.
func (in *injection) apply(body []byte) []byte {
	if d := in.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	for start := time.Now(); time.Since(start) < in.spin; {
	}
	if in.copy {
		body = append([]byte(nil), body...)
	}
	return body
}
