// Package faults injects regressions into a benchmark server on purpose,
// to prove that the regression gate catches them. The bench server
// processes (harness/serverproc, "rpcbench serve") attach an Injector to
// their server, which installs it as the server's rpcbench.ReplyHook while
// it has something to inject; other servers never carry it, and the core's
// call path pays one nil check for the hook's absence.
//
//	RPCBENCH_INJECT="delay=200us,copy=1"
//
// delay adds a fixed time (a Go duration) to every call; spin busy-waits
// for one instead, for slowdowns of a few percent that a sleep (tens of
// microseconds at least) cannot make; copy=1 makes one extra allocation
// and copy of each reply. A server's fault schedule can
// change the delay later (Injector.SetDelay, the "slow" fault).
package faults

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"rpcbench"
)

// Env names the environment variable Parse's settings are read from.
const Env = "RPCBENCH_INJECT"

// keys lists the settings Parse knows, for its error messages.
const keys = "delay, spin, copy"

// Injector slows or bloats a server's replies. Its methods are safe for
// concurrent use: the server calls Reply and Blocks from every call's
// goroutine while SetDelay may change the delay.
type Injector struct {
	delay atomic.Int64 // nanoseconds
	spin  time.Duration
	copy  bool

	mu  sync.Mutex // serialises installing the hook
	srv *rpcbench.Server
}

var _ rpcbench.ReplyHook = (*Injector)(nil)

// Parse reads settings in RPCBENCH_INJECT's form: comma-separated
// key=value pairs, keys delay and spin (non-negative Go durations) and
// copy (a boolean). An empty string gives an Injector that does nothing.
func Parse(s string) (*Injector, error) {
	in := new(Injector)
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%s: %q is not key=value (valid keys: %s)", Env, kv, keys)
		}
		switch k = strings.TrimSpace(k); k {
		case "delay":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%s: delay %q is not a non-negative duration such as 200us", Env, v)
			}
			in.delay.Store(int64(d))
		case "spin":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%s: spin %q is not a non-negative duration such as 3us", Env, v)
			}
			in.spin = d
		case "copy":
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("%s: copy %q is not a boolean (1, 0, true, false)", Env, v)
			}
			in.copy = b
		default:
			return nil, fmt.Errorf("%s: unknown key %q (valid keys: %s)", Env, k, keys)
		}
	}
	return in, nil
}

// FromEnv parses RPCBENCH_INJECT. The returned Injector is never nil, so
// that a fault schedule can slow a server that started without faults.
func FromEnv() (*Injector, error) { return Parse(os.Getenv(Env)) }

// Attach makes in srv's reply hook whenever it has something to inject:
// now, and after every SetDelay. A server without faults thus runs its
// calls exactly as a production server does.
func (in *Injector) Attach(srv *rpcbench.Server) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.srv = srv
	in.installLocked()
}

func (in *Injector) installLocked() {
	switch {
	case in.srv == nil:
	case in.Active():
		in.srv.SetReplyHook(in)
	default:
		in.srv.SetReplyHook(nil)
	}
}

// Active reports whether in slows or copies replies.
func (in *Injector) Active() bool { return in.delay.Load() > 0 || in.spin > 0 || in.copy }

// SetDelay sets the delay added to every call from now on; zero or
// negative removes it.
func (in *Injector) SetDelay(d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.delay.Store(int64(max(d, 0)))
	in.installLocked()
}

// Delay returns the delay added to every call.
func (in *Injector) Delay() time.Duration { return time.Duration(in.delay.Load()) }

// Copies reports whether every reply is copied once more.
func (in *Injector) Copies() bool { return in.copy }

// Blocks implements rpcbench.ReplyHook: Reply sleeps while a delay is set.
func (in *Injector) Blocks() bool { return in.delay.Load() > 0 }

// Reply implements rpcbench.ReplyHook: it sleeps for the delay, spins
// for the spin, then returns body, or a copy of it with copy=1.
func (in *Injector) Reply(body []byte) []byte {
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
