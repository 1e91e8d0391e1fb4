package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"rpcbench/harness/verdict"
)

// The Verdict section, first in report.md and report.html: the
// recommendation, each claim linked to the objective row it rests on, the
// objectives (best, runner-up, margin with its 95% interval) with links
// to the cells' rows in the group tables, the codecs, and what the run
// cannot judge. Package verdict computes it; this file only writes it.

const verdictIntro = "Computed from this run's repetitions. The margin is how much better the best cell is than the runner-up: " +
	"the median of their per-repetition ratios (cells run interleaved, so each repetition pairs them on the same machine state), " +
	"with its 95% confidence interval from order statistics. Where the interval includes a tie the objective has no clear winner. " +
	"Raw-socket limits and references are measured beside the contenders but are not choices, so they never win; cells with errors or a generator behind schedule are left out."

func marginText(o *verdict.Objective) string {
	text := o.Why
	if o.Clear {
		text = "clear"
	}
	if o.Reranked {
		text += "; their medians rank them the other way, the paired per-repetition ratios decide"
	}
	return text
}

// writeVerdictMarkdown writes the Verdict section of report.md.
func writeVerdictMarkdown(w io.Writer, v *verdict.Verdict) {
	fmt.Fprintf(w, "## Verdict\n\n%s\n\n", verdictIntro)
	if len(v.Claims) > 0 {
		fmt.Fprintf(w, "**Recommendation**\n\n")
		for _, c := range v.Claims {
			fmt.Fprintf(w, "- %s ([figures](#%s))\n", mdEscape(c.Text), c.Ref)
		}
		fmt.Fprintln(w)
	}
	if len(v.Objectives) > 0 {
		fmt.Fprintf(w, "| objective | cells | best | runner-up | margin [95%% interval] | judgement |\n|---|---:|---|---|---|---|\n")
		for _, o := range v.Objectives {
			fmt.Fprintf(w, "| <a id=\"%s\"></a>%s — %s | %d | [%s](#%s) %s | [%s](#%s) %s | %s | %s |\n", o.ID, o.What, o.Scope, o.Contenders,
				o.Best.Label, verdict.Anchor(o.Best.Key), o.Metric.Format(o.Best.Median),
				o.RunnerUp.Label, verdict.Anchor(o.RunnerUp.Key), o.Metric.Format(o.RunnerUp.Median), o.Margin, marginText(o))
		}
		fmt.Fprintln(w)
	}
	if len(v.Codecs) > 0 {
		fmt.Fprintf(w, "| codecs on | fastest | margin over the next | smallest on the wire | JSON instead |\n|---|---|---|---|---|\n")
		for _, ch := range v.Codecs {
			fmt.Fprintf(w, "| <a id=\"%s\"></a>%s | [%s](#%s) %s | %s over %s | %s | %s |\n", ch.ID, ch.Scope,
				ch.Fastest.Label, verdict.Anchor(ch.Fastest.Key), verdict.Throughput.Format(ch.Fastest.Median),
				ch.FastestMargin, ch.FastestNext.Label, smallestText(ch), jsonText(ch))
		}
		fmt.Fprintln(w)
	}
	if len(v.CannotJudge) > 0 {
		fmt.Fprintf(w, "**What this verdict cannot judge**\n\n")
		for _, c := range v.CannotJudge {
			key := ""
			if c.Key != "" {
				key = " `" + c.Key + "`"
			}
			fmt.Fprintf(w, "- **%s**%s: %s\n", c.Kind, key, mdEscape(c.Text))
		}
		fmt.Fprintln(w)
	}
}

func smallestText(ch *verdict.CodecChoice) string {
	if ch.Smallest.Key == "" {
		return "–"
	}
	return fmt.Sprintf("%s %s (%s over %s)", ch.Smallest.Label, verdict.Wire.Format(ch.Smallest.Median), ch.SmallestMargin, ch.SmallestNext.Label)
}

func jsonText(ch *verdict.CodecChoice) string {
	if ch.JSON == nil {
		return "–"
	}
	s := fmt.Sprintf("%s: %s (the fastest makes %s as many calls)", ch.JSON.Label,
		verdict.Throughput.Format(ch.JSON.Median), ch.JSONSpeed)
	if ch.JSONBytes != 0 {
		s += fmt.Sprintf(", %+.0f B per call", ch.JSONBytes)
	}
	if ch.FastestCPU > 0 && ch.JSONCPU > 0 {
		s += fmt.Sprintf(", %.2f× the CPU", ch.JSONCPU/ch.FastestCPU)
	}
	return s
}

// htmlVerdict is the Verdict section of report.html.
type htmlVerdict struct {
	Intro       string
	Claims      []verdict.Claim
	Objectives  []htmlVerdictRow
	Codecs      []htmlVerdictRow
	CannotJudge []verdict.Caveat
}

// htmlVerdictRow is one row: an anchor, then cells that may link to a
// cell's row.
type htmlVerdictRow struct {
	ID    string
	Clear bool
	Cells []htmlLink
}

type htmlLink struct {
	Text, Href string
}

func verdictHTML(v *verdict.Verdict) *htmlVerdict {
	h := &htmlVerdict{Intro: verdictIntro, Claims: v.Claims, CannotJudge: v.CannotJudge}
	cell := func(e verdict.Entry, value string) htmlLink {
		return htmlLink{Text: e.Label + " " + value, Href: "#" + verdict.Anchor(e.Key)}
	}
	for _, o := range v.Objectives {
		h.Objectives = append(h.Objectives, htmlVerdictRow{ID: o.ID, Clear: o.Clear, Cells: []htmlLink{
			{Text: o.What + " — " + o.Scope}, {Text: fmt.Sprint(o.Contenders)},
			cell(o.Best, o.Metric.Format(o.Best.Median)), cell(o.RunnerUp, o.Metric.Format(o.RunnerUp.Median)),
			{Text: o.Margin.String()}, {Text: marginText(o)}}})
	}
	for _, ch := range v.Codecs {
		h.Codecs = append(h.Codecs, htmlVerdictRow{ID: ch.ID, Clear: ch.FastestMargin.Excludes1(), Cells: []htmlLink{
			{Text: ch.Scope}, cell(ch.Fastest, verdict.Throughput.Format(ch.Fastest.Median)),
			{Text: ch.FastestMargin.String() + " over " + ch.FastestNext.Label}, {Text: smallestText(ch)}, {Text: jsonText(ch)}}})
	}
	return h
}

// anchors hands out each cell's row anchor once: a cell shown in several
// groups is linked to its first row.
type anchors map[string]bool

func (a anchors) take(key string) string {
	if a[key] {
		return ""
	}
	a[key] = true
	return verdict.Anchor(key)
}

// mdAnchor is the inline anchor a Markdown row starts with.
func mdAnchor(id string) string {
	if id == "" {
		return ""
	}
	return `<a id="` + id + `"></a>`
}

var verdictTmpl = template.Must(template.New("verdict").Parse(`{{define "verdict"}}<section class="verdict"><h2>Verdict</h2><p class="note">{{.Intro}}</p>
{{if .Claims}}<h3>Recommendation</h3><ul class="claims">{{range .Claims}}<li>{{.Text}} <a href="#{{.Ref}}">figures</a></li>{{end}}</ul>{{end}}
{{if .Objectives}}<div class="scroll"><table><tr><th class="l">objective</th><th>cells</th><th class="l">best</th><th class="l">runner-up</th><th class="l">margin [95% interval]</th><th class="l">judgement</th></tr>
{{range .Objectives}}<tr id="{{.ID}}"{{if not .Clear}} class="tie"{{end}}>{{range .Cells}}<td class="l">{{if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}
{{if .Codecs}}<h3>Codecs</h3><div class="scroll"><table><tr><th class="l">codecs on</th><th class="l">fastest</th><th class="l">margin over the next</th><th class="l">smallest on the wire</th><th class="l">JSON instead</th></tr>
{{range .Codecs}}<tr id="{{.ID}}"{{if not .Clear}} class="tie"{{end}}>{{range .Cells}}<td class="l">{{if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}
{{if .CannotJudge}}<h3>What this verdict cannot judge</h3><ul>{{range .CannotJudge}}<li><b>{{.Kind}}</b>{{with .Key}} <code>{{.}}</code>{{end}}: {{.Text}}</li>{{end}}</ul>{{end}}
</section>{{end}}`))

// verdictSection renders the HTML section.
func verdictSection(v *verdict.Verdict) (template.HTML, error) {
	var b strings.Builder
	if err := verdictTmpl.ExecuteTemplate(&b, "verdict", verdictHTML(v)); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
