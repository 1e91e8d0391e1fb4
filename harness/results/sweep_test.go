package results

import (
	"slices"
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
