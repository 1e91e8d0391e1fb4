package rpcbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Regressions can be injected into the server on purpose, to prove that
// the regression gate catches them: RPCBENCH_INJECT="delay=200us,copy=1"
// adds a fixed delay to every call and/or one extra allocation and copy of
// each reply. It is read once at start-up and costs one branch when unset.
var injected = parseInject(os.Getenv("RPCBENCH_INJECT"))

type injection struct {
	delay time.Duration
	copy  bool
}

func parseInject(s string) injection {
	var in injection
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "":
		case "delay":
			d, err := time.ParseDuration(v)
			if err != nil {
				panic(fmt.Sprintf("RPCBENCH_INJECT: bad delay %q: %v", v, err))
			}
			in.delay = d
		case "copy":
			in.copy, _ = strconv.ParseBool(v)
		default:
			panic(fmt.Sprintf("RPCBENCH_INJECT: unknown key %q (valid: delay, copy)", k))
		}
	}
	return in
}

// apply slows or bloats one reply as configured.
func (in *injection) apply(body []byte) []byte {
	if in.delay > 0 {
		time.Sleep(in.delay)
	}
	if in.copy {
		body = append([]byte(nil), body...)
	}
	return body
}
