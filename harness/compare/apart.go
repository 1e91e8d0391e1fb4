package compare

import (
	"fmt"
	"math"
	"time"

	"rpcbench/harness/results"
)

// apartWarning says when old and new were measured one after the other
// rather than interleaved: on a shared machine the host drifts by more
// than 5% over tens of seconds, and two runs made apart take that drift
// for a change of the code (scripts/detect-proof.sh measured 25 false
// alarms in 60 cells for runs made apart, 3 in 60 for runs interleaved
// and pooled). It is "" when the repetition windows interleave or their
// times are unknown.
func apartWarning(old, new *results.Run) string {
	o0, o1 := windows(old)
	n0, n1 := windows(new)
	if o0 == 0 || n0 == 0 || (o0 < n1 && n0 < o1) {
		return ""
	}
	gap := time.Duration(max(n0-o1, o0-n1))
	return fmt.Sprintf("the runs were measured one after the other (%s apart), not interleaved: on a shared machine the host's drift between them can show as a significant change; for a change of a few percent interleave the two (scripts/ab-binaries.sh runs them in alternation and pools each side)",
		gap.Round(time.Second))
}

// windows is the span of run's repetition windows in Unix nanoseconds:
// from the first start to the last end; 0, 0 when none is known.
func windows(run *results.Run) (first, last int64) {
	first = math.MaxInt64
	for _, c := range run.Cells {
		for _, rr := range c.Reps {
			f := rr.Figures
			if f == nil || f.StartedUnixNs == 0 {
				continue
			}
			first = min(first, f.StartedUnixNs)
			last = max(last, f.StartedUnixNs+f.ElapsedNs)
		}
	}
	if last == 0 {
		return 0, 0
	}
	return first, last
}
