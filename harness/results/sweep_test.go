package results

import (
	"slices"
	"strings"
	"testing"
)

func TestSustained(t *testing.T) {
	step := func(target, achieved float64, held bool) *Step {
		return &Step{TargetRate: target, Held: held, Figures: &Figures{Throughput: achieved}}
	}
	for _, tc := range []struct {
		name    string
		steps   []*Step
		rate    float64
		nonMono []float64
	}{
		{"none", nil, 0, nil},
		{"all held", []*Step{step(100, 99, true), step(200, 198, true), step(400, 390, true)}, 390, nil},
		{"saturates", []*Step{step(100, 99, true), step(200, 198, true), step(400, 300, false)}, 198, nil},
		// One failed step low down sinks everything above it, and the
		// curve is flagged: higher steps held.
		{"first fails", []*Step{step(100, 99, false), step(200, 198, true), step(400, 390, true)}, 0, []float64{100}},
		{"dip", []*Step{step(100, 99, true), step(200, 198, false), step(300, 297, false), step(400, 390, true), step(800, 500, false)}, 99, []float64{200, 300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rate, nm := Sustained(tc.steps)
			if rate != tc.rate || !slices.Equal(nm, tc.nonMono) {
				t.Errorf("got %v %v, want %v %v", rate, nm, tc.rate, tc.nonMono)
			}
		})
	}
}

// A pacer check in which no rate held says how late the pacer still was at
// the lowest rate tried, not that it kept its schedule up to 0 calls/s.
func TestPacerCeilingExplain(t *testing.T) {
	held := &PacerCeiling{TopRate: 400e3, LagP99Ns: 200e3, LimitNs: 50e3, HeldRate: 100e3, LowestRate: 100e3, LowLagP99Ns: 40e3}
	held.Explain()
	if held.OK || !strings.Contains(held.Explanation, "kept its schedule only up to 100.0k calls/s") {
		t.Errorf("held at a lower rate: %+v", held)
	}
	none := &PacerCeiling{TopRate: 400e3, LagP99Ns: 200e3, LimitNs: 50e3, LowestRate: 50e3, LowLagP99Ns: 66e3}
	none.Explain()
	if none.OK || strings.Contains(none.Explanation, "up to 0") || !strings.Contains(none.Explanation, "down to 50.0k calls/s it was still late by 66µs") {
		t.Errorf("held nowhere: %q", none.Explanation)
	}
	ok := &PacerCeiling{TopRate: 400e3, LagP99Ns: 20e3, LimitNs: 50e3}
	ok.Explain()
	if !ok.OK {
		t.Errorf("on schedule: %+v", ok)
	}
}
