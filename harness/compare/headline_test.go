package compare

import "testing"

// TestHeadlineSingular: the gate's outcome line counts one check, cell,
// regression or problem in the singular.
func TestHeadlineSingular(t *testing.T) {
	one := &Check{Row: &Row{Key: "a"}}
	for _, c := range []struct {
		g    GateResult
		want string
	}{
		{GateResult{Checks: []*Check{one}}, "PASS: no regression (1 check over 1 cell)"},
		{GateResult{Checks: []*Check{{Row: &Row{Key: "a"}, Verdict: Regressed}}}, "FAIL: 1 regression in 1 cell"},
		{GateResult{Checks: []*Check{{Row: &Row{Key: "a"}, Verdict: Regressed}}, Problems: []string{"x"}}, "FAIL: 1 regression in 1 cell, 1 problem"},
		{GateResult{Checks: []*Check{one, {Row: &Row{Key: "b"}}}}, "PASS: no regression (2 checks over 2 cells)"},
	} {
		if got := c.g.Headline(); got != c.want {
			t.Errorf("Headline() = %q, want %q", got, c.want)
		}
	}
}
