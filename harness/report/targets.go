package report

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"rpcbench/harness/results"
)

// targetsMarkdown writes the section "External targets": each target's
// settings, and the client-side costs of its cells (the server's are
// unknown, so the main tables' client+server sums show "–").
func targetsMarkdown(w io.Writer, run *results.Run) {
	ts := run.Manifest.Targets
	if len(ts) == 0 {
		return
	}
	fmt.Fprintf(w, "## External targets\n\n")
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		fmt.Fprintf(w, "**%s**\n\n", name)
		s := ts[name]
		for _, k := range slices.Sorted(maps.Keys(s)) {
			fmt.Fprintf(w, "- %s: %s\n", k, mdEscape(s[k]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| cell | client CPU µs/call | client allocs/call | client B/call | wire B/call (req+resp) | server |\n|---|---:|---:|---:|---:|---|\n")
	for _, c := range run.Cells {
		if c.Params.Target == "" || !c.Ran() {
			continue
		}
		p := c.Merged.PerCall
		fmt.Fprintf(w, "| `%s` | %.2f | %.1f | %.0f | %.0f | — (%s) |\n", c.Key, p.ClientCPUNs/1e3, p.ClientAllocs, p.ClientAllocBytes, p.WireOut+p.WireIn, mdEscape(p.ServerUnknown))
	}
	fmt.Fprintln(w)
}
