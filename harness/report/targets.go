package report

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"

	"rpcbench/harness/results"
)

// targetsView is the section "External targets": what each target is
// (name, URL, call, kind, data), every setting the run recorded for it,
// and the client-side costs of its cells (the server's are unknown, so
// the main tables' client+server sums show "–").
type targetsView struct {
	Intro    string
	Overview htmlTable
	Settings []htmlTable
	Costs    htmlTable
}

const targetsIntro = "Services this run did not start, measured from the client's side: their cells' server CPU, allocations and memory are unknown and shown as —, never as 0."

func targetsOf(run *results.Run) *targetsView {
	ts := run.Manifest.Targets
	if len(ts) == 0 {
		return nil
	}
	v := &targetsView{Intro: targetsIntro,
		Overview: htmlTable{Head: []string{"target", "URL", "call", "kind", "data"}}}
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		s := ts[name]
		data := ""
		if sp := run.Manifest.Spec; sp != nil {
			data = sp.Targets[name].Data
		}
		v.Overview.Rows = append(v.Overview.Rows, []string{name, s["url"], targetCall(s), s["kind"], shorten(data, 80)})
		t := htmlTable{Title: name, Head: []string{"setting", "value"}}
		for _, k := range slices.Sorted(maps.Keys(s)) {
			t.Rows = append(t.Rows, []string{k, s[k]})
		}
		v.Settings = append(v.Settings, t)
	}
	v.Costs = htmlTable{Title: "Client-side costs per call",
		Head: []string{"cell", "client CPU µs/call", "client allocs/call", "client B/call", "wire B/call (req+resp)", "server"}}
	for _, c := range run.Cells {
		if c.Params.Target == "" || !c.Ran() {
			continue
		}
		p := c.Merged.PerCall
		v.Costs.Rows = append(v.Costs.Rows, []string{c.Key, fmt.Sprintf("%.2f", p.ClientCPUNs/1e3), fmt.Sprintf("%.1f", p.ClientAllocs),
			fmt.Sprintf("%.0f", p.ClientAllocBytes), fmt.Sprintf("%.0f", p.WireOut+p.WireIn), "— (" + p.ServerUnknown + ")"})
	}
	return v
}

// targetCall is what a target calls: the gRPC or rpcbench method, or an
// HTTP request line.
func targetCall(s map[string]string) string {
	if strings.HasPrefix(s["kind"], "HTTP") {
		if u, err := url.Parse(s["url"]); err == nil {
			return s["method"] + " " + u.RequestURI()
		}
	}
	return s["method"]
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// targetsMarkdown writes the section into report.md.
func targetsMarkdown(w io.Writer, run *results.Run) {
	v := targetsOf(run)
	if v == nil {
		return
	}
	fmt.Fprintf(w, "## External targets\n\n%s\n\n", v.Intro)
	mdTable(w, v.Overview.Head, v.Overview.Rows)
	for _, t := range v.Settings {
		fmt.Fprintf(w, "**%s**\n\n", t.Title)
		for _, r := range t.Rows {
			fmt.Fprintf(w, "- %s: %s\n", r[0], mdEscape(r[1]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s:\n\n", v.Costs.Title)
	mdTable(w, v.Costs.Head, v.Costs.Rows)
}
