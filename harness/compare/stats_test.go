package compare

import (
	"math"
	"slices"
	"testing"
)

// exactP is an independent oracle: the two-sided exact p-value of the
// U statistic, twice the smaller tail (as R's wilcox.test), found by
// enumerating every way to split the pooled values (ties count one half).
func exactP(a, b []float64) float64 {
	pool := append(slices.Clone(a), b...)
	n, k := len(pool), len(a)
	u := func(x, y []float64) float64 {
		s := 0.0
		for _, xi := range x {
			for _, yi := range y {
				switch {
				case xi > yi:
					s++
				case xi == yi:
					s += 0.5
				}
			}
		}
		return s
	}
	mean := float64(len(a)*len(b)) / 2
	obs := u(a, b)
	if obs == mean {
		return 1
	}
	var total, lower, upper int
	for mask := 0; mask < 1<<n; mask++ {
		if popcount(mask) != k {
			continue
		}
		var x, y []float64
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				x = append(x, pool[i])
			} else {
				y = append(y, pool[i])
			}
		}
		total++
		v := u(x, y)
		if v <= obs+1e-9 {
			lower++
		}
		if v >= obs-1e-9 {
			upper++
		}
	}
	return math.Min(1, 2*float64(min(lower, upper))/float64(total))
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func TestUTestKnownValues(t *testing.T) {
	// Cumulative counts of U ≤ u for n1 = n2 = 5 out of C(10,5) = 252
	// (the standard table): 1 2 4 7 12 19 28 ... so the two-sided p of
	// U = 0, 1, 2, 3 is 2/252, 4/252, 8/252, 14/252.
	old := []float64{10, 11, 12, 13, 14}
	cases := []struct {
		name string
		new  []float64
		want float64
	}{
		{"U=0", []float64{20, 21, 22, 23, 24}, 2.0 / 252},
		{"U=1", []float64{13.5, 21, 22, 23, 24}, 4.0 / 252},
		{"U=2", []float64{12.5, 21, 22, 23, 24}, 8.0 / 252},
		{"U=3", []float64{11.5, 21, 22, 23, 24}, 14.0 / 252},
		// U = 10 of 25: p = 2×P(U ≤ 10) = 2×87/252 ≈ 0.69.
		{"interleaved", []float64{10.5, 11.5, 12.5, 13.5, 14.5}, 2 * 87.0 / 252},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _ := UTest(old, c.new, 0.05)
			if math.Abs(p-c.want) > 1e-9 {
				t.Errorf("p = %.6f, want %.6f", p, c.want)
			}
			if o := exactP(old, c.new); math.Abs(p-o) > 1e-9 {
				t.Errorf("p = %.6f, enumeration gives %.6f", p, o)
			}
		})
	}
}

func TestUTestTiesMatchEnumeration(t *testing.T) {
	cases := [][2][]float64{
		{{1, 2, 2, 3, 3}, {3, 3, 4, 4, 5}},
		{{79, 79, 79, 79, 79, 79}, {79, 79, 79, 80, 80, 80}},
		{{4.05, 4.06, 4.05, 4.07}, {5.05, 5.06, 4.05, 5.07, 5.05}},
	}
	for _, c := range cases {
		p, _ := UTest(c[0], c[1], 0.05)
		if o := exactP(c[0], c[1]); math.Abs(p-o) > 1e-9 {
			t.Errorf("%v vs %v: p = %.6f, enumeration gives %.6f", c[0], c[1], p, o)
		}
	}
}

func TestUTestAllEqual(t *testing.T) {
	p, _ := UTest([]float64{79, 79, 79}, []float64{79, 79, 79}, 0.05)
	if p != 1 {
		t.Errorf("identical samples: p = %v, want 1", p)
	}
}

func TestUTestThreeVersusThreeNeverSignificant(t *testing.T) {
	p, warn := UTest([]float64{1, 2, 3}, []float64{7, 8, 9}, 0.05)
	if math.Abs(p-0.1) > 1e-9 {
		t.Errorf("3 vs 3 fully separated: p = %v, want 0.1", p)
	}
	if len(warn) == 0 {
		t.Errorf("no warning that 3 vs 3 cannot reach 0.05")
	}
}

// Large samples with ties use the normal approximation with tie and
// continuity correction; check it against the formula.
func TestUTestNormalApproximation(t *testing.T) {
	var a, b []float64
	for i := 0; i < 30; i++ {
		a = append(a, float64(i/3))   // ties in threes
		b = append(b, float64(i/3)+2) // shifted by 2
	}
	p, _ := UTest(a, b, 0.05)

	// U of a over b, ties one half.
	u := 0.0
	for _, x := range a {
		for _, y := range b {
			if x > y {
				u++
			} else if x == y {
				u += 0.5
			}
		}
	}
	// Tie groups of the pooled sample.
	counts := map[float64]int{}
	for _, v := range append(slices.Clone(a), b...) {
		counts[v]++
	}
	tie := 0.0
	for _, c := range counts {
		tie += float64(c*c*c - c)
	}
	n1, n2 := 30.0, 30.0
	N := n1 + n2
	mu := n1 * n2 / 2
	sigma := math.Sqrt(n1 * n2 / 12 * ((N + 1) - tie/(N*(N-1))))
	z := (u - mu + 0.5) / sigma // continuity correction towards the mean
	want := 2 * 0.5 * math.Erfc(-z/math.Sqrt2)
	if math.Abs(p-want) > 1e-9 {
		t.Errorf("p = %.9f, formula gives %.9f", p, want)
	}
	if p > 0.05 {
		t.Errorf("p = %v: a shift of two tie groups in 30 should be significant", p)
	}
}

func TestMinP(t *testing.T) {
	cases := []struct {
		n1, n2 int
		want   float64
	}{
		{3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 5, 2.0 / 252}, {6, 6, 2.0 / 924}, {12, 6, 2.0 / 18564}, {1, 9, 0.2}, {0, 5, 1},
	}
	for _, c := range cases {
		if got := MinP(c.n1, c.n2); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("MinP(%d, %d) = %v, want %v", c.n1, c.n2, got, c.want)
		}
		if c.n1 > 0 && c.n2 > 0 && c.n1+c.n2 <= 16 {
			a, b := make([]float64, c.n1), make([]float64, c.n2)
			for i := range a {
				a[i] = float64(i)
			}
			for i := range b {
				b[i] = float64(100 + i)
			}
			if p, _ := UTest(a, b, 0.05); math.Abs(p-c.want) > 1e-9 {
				t.Errorf("fully separated %d vs %d: p = %v, MinP says %v", c.n1, c.n2, p, c.want)
			}
		}
	}
}

func TestMedianGeomean(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Errorf("median of nothing is not NaN")
	}
	if g := geomean([]float64{1, 4, 0}); math.Abs(g-2) > 1e-12 {
		t.Errorf("geomean = %v, want 2 (zero left out)", g)
	}
}
