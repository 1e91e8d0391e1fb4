package compare

import (
	"fmt"
	"io"
	"slices"

	"rpcbench/internal/plural"
)

// powerWarnings says, once per pair of sample sizes, when the rows'
// repetitions are too few for any change to be significant at alpha: the
// gate counts such a run as a problem; compare prints it above its tables,
// so that a column of "~" is not read as "nothing changed".
func (c *Comparison) powerWarnings() []string {
	var out []string
	var seen [][2]int
	for _, r := range c.Rows {
		n := [2]int{r.Old.Len(), r.New.Len()}
		if slices.Contains(seen, n) {
			continue
		}
		seen = append(seen, n)
		if mp := MinP(n[0], n[1]); mp >= c.Alpha {
			cells := 0
			for _, k := range c.keys() {
				if c.hasSizes(k, n) {
					cells++
				}
			}
			have := "have"
			if cells == 1 {
				have = "has"
			}
			out = append(out, fmt.Sprintf("%s %s %s and %s: the smallest p they allow is %.3f, not below %g, so no change there can be significant (~ everywhere); run at least 6 repetitions on each side",
				plural.Count(cells, "cell"), have, plural.Count(n[0], "old repetition"), plural.Count(n[1], "new repetition"), mp, c.Alpha))
		}
	}
	return out
}

// hasSizes reports whether some row of cell key has the sample sizes n.
func (c *Comparison) hasSizes(key string, n [2]int) bool {
	return slices.ContainsFunc(c.Rows, func(r *Row) bool { return r.Key == key && r.Old.Len() == n[0] && r.New.Len() == n[1] })
}

// writeWarnings prints the comparison's warnings, each on a line of its
// own after prefix.
func (c *Comparison) writeWarnings(w io.Writer, prefix string) {
	for _, s := range c.Warnings {
		fmt.Fprintf(w, "%s%s\n", prefix, s)
	}
}
