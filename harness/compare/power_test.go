package compare

import (
	"bytes"
	"strings"
	"testing"
)

// Three repetitions against three cannot reach p < 0.05: compare says so
// above its tables, in text and Markdown; six against six can, and it
// stays quiet.
func TestCompareWarnsWhenSamplesCannotReachSignificance(t *testing.T) {
	for _, tc := range []struct {
		reps int
		warn bool
	}{{3, true}, {6, false}} {
		old := mkRun("old", tc.reps, 1, core1, core8)
		new := mkRun("new", tc.reps, 1.5, core1, core8)
		cmp, err := Compare(old, new, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var text, md bytes.Buffer
		cmp.WriteText(&text, "old", "new")
		cmp.WriteMarkdown(&md, "old", "new")
		want := "2 cells have 3 old repetitions and 3 new repetitions: the smallest p they allow is 0.100"
		for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
			if got := strings.Contains(out, want); got != tc.warn {
				t.Errorf("%d reps, %s: warning shown %v, want %v:\n%s", tc.reps, name, got, tc.warn, out)
			}
		}
		// With six repetitions a 50% slowdown is significant.
		if !tc.warn && !strings.Contains(text.String(), "+50.0%") {
			t.Errorf("6 reps: a 50%% slowdown is not flagged:\n%s", text.String())
		}
	}
}
