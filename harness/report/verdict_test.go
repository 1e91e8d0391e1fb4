package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"rpcbench/harness/results"
	"rpcbench/harness/spec"
)

// withRival adds a quic copy of the tcp c=64 cell at two-thirds of its
// throughput, so the verdict has an objective to decide.
func withRival(t *testing.T) *results.Run {
	run := fakeRun(t)
	tcp := run.Cells[1]
	rival := *tcp
	rival.Params.Transport = spec.Transport{Name: "quic"}
	rival.Key = rival.Params.KeyOf()
	rival.Params.Key = rival.Key
	rival.Reps = nil
	for _, r := range tcp.Reps {
		f := *r.Figures
		f.Throughput *= 2.0 / 3
		rr := *r
		rr.Figures = &f
		rival.Reps = append(rival.Reps, &rr)
	}
	mergeForTest(&rival)
	run.Cells = append(run.Cells, &rival)
	return run
}

// Every link of the verdict lands on an anchor of the same report, in
// Markdown and in HTML, and the recommendation names the faster cell.
func TestVerdictLinks(t *testing.T) {
	run := withRival(t)
	var md, html bytes.Buffer
	if err := Markdown(&md, run); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, run); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]struct {
		text       string
		link, anch *regexp.Regexp
	}{
		"report.md":   {md.String(), regexp.MustCompile(`\]\(#([\w-]+)\)`), regexp.MustCompile(`<a id="([\w-]+)"></a>`)},
		"report.html": {html.String(), regexp.MustCompile(`href="#([\w-]+)"`), regexp.MustCompile(` id="([\w-]+)"`)},
	} {
		ids := map[string]int{}
		for _, m := range doc.anch.FindAllStringSubmatch(doc.text, -1) {
			ids[m[1]]++
		}
		links := doc.link.FindAllStringSubmatch(doc.text, -1)
		if len(links) < 4 {
			t.Errorf("%s: %d verdict links", name, len(links))
		}
		for _, m := range links {
			if ids[m[1]] != 1 {
				t.Errorf("%s: link #%s has %d anchors", name, m[1], ids[m[1]])
			}
		}
		v := doc.text[strings.Index(doc.text, "Verdict"):]
		if !strings.Contains(v, "For many concurrent calls (c=64, payload Small") || !strings.Contains(v, "between tcp proto") {
			t.Errorf("%s: the verdict does not name tcp over quic at c=64:\n%s", name, v[:min(len(v), 3000)])
		}
	}
}
