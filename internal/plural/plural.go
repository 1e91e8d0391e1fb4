// Package plural writes counts with their noun: "1 repetition", "3
// repetitions". The harness and the command line both use it, so it sits
// below both.
package plural

import (
	"strconv"
	"strings"
)

// Count writes n and noun, in the plural unless n is 1 or -1 ("1 cell",
// "0 cells", "2 processes"). noun is the singular; a noun ending in s, x,
// ch or sh takes "es".
func Count(n int, noun string) string {
	s := strconv.Itoa(n) + " "
	if n == 1 || n == -1 {
		return s + noun
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return s + noun + "es"
		}
	}
	return s + noun + "s"
}
