package compare

import (
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// UTest is the two-sided Mann-Whitney U test of old against new, as
// benchstat runs it (golang.org/x/perf/benchmath, AssumeNothing): exact
// p-values for small samples, ties included, and the normal approximation
// with tie correction for large ones. Two samples whose values are all
// equal give p = 1. The warnings say when the samples are too small for
// any difference to be significant at alpha.
func UTest(old, new []float64, alpha float64) (p float64, warnings []string) {
	if len(old) == 0 || len(new) == 0 {
		return 1, []string{"no samples"}
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	// NewSample sorts in place: hand it copies.
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(old), th), benchmath.NewSample(slices.Clone(new), th))
	for _, w := range c.Warnings {
		warnings = append(warnings, w.Error())
	}
	return c.P, warnings
}

// MinP is the smallest two-sided p-value the exact U test can give for
// samples of n1 and n2 distinct values: 2 / C(n1+n2, n1). With 3 against 3
// it is 0.1, so nothing is ever significant at 0.05; with 5 against 5 it
// is 2/252 ≈ 0.0079.
func MinP(n1, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	// C(n1+n2, n1) computed in floating point, exact for the sizes used.
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// median of v (which it does not modify); NaN for no values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// geomean of the positive values of v; NaN when there are none.
func geomean(v []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range v {
		if x > 0 {
			sum += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Exp(sum / float64(n))
}
