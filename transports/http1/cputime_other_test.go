//go:build !unix

package http1_test

import "time"

// cpuTime is not measured here; cpu-µs/call reads 0.
func cpuTime() time.Duration { return 0 }
