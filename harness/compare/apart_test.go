package compare

import (
	"strings"
	"testing"

	"rpcbench/harness/results"
)

// runAt is a run of one cell whose repetitions' windows start at the given
// Unix seconds and last one second each.
func runAt(starts ...int64) *results.Run {
	c := &results.Cell{Key: "transport=tcp"}
	for i, s := range starts {
		c.Reps = append(c.Reps, &results.Rep{Rep: i, Figures: &results.Figures{StartedUnixNs: s * 1e9, ElapsedNs: 1e9}})
	}
	return &results.Run{Cells: []*results.Cell{c}}
}

func TestApartWarning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new *results.Run
		want     string
	}{
		{"interleaved", runAt(0, 4, 8), runAt(2, 6, 10), ""},
		{"new after old", runAt(0, 2, 4), runAt(65, 67), "(1m0s apart)"},
		{"old after new", runAt(30, 32), runAt(0, 2), "(27s apart)"},
		{"times unknown", runAt(), runAt(0, 2), ""},
	} {
		got := apartWarning(tc.old, tc.new)
		if tc.want == "" && got != "" {
			t.Errorf("%s: warned %q", tc.name, got)
		}
		if tc.want != "" && (!strings.Contains(got, tc.want) || !strings.Contains(got, "one after the other")) {
			t.Errorf("%s: warning %q, want one with %q", tc.name, got, tc.want)
		}
	}
}
