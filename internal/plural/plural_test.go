package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n          int
		noun, want string
	}{
		{1, "repetition", "1 repetition"},
		{0, "repetition", "0 repetitions"},
		{2, "cell", "2 cells"},
		{1, "load process", "1 load process"},
		{3, "load process", "3 load processes"},
		{-1, "call", "-1 call"},
	} {
		if got := Count(c.n, c.noun); got != c.want {
			t.Errorf("Count(%d, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}
