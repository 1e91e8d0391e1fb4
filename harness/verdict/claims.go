package verdict

import (
	"fmt"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/netem"
)

// claims writes the recommendation from the objectives and codec
// choices: for the slice with the most cells (the run's main question)
// throughput at its highest concurrency, latency for one caller and the
// tail; for each other network profile its throughput and tail; and one
// sentence per codec choice. Every other objective is in the table only.
func (v *Verdict) claims(run *results.Run) {
	main := v.mainScope()
	for _, o := range v.Objectives {
		inMain := o.Scope == main
		otherProfile := !inMain && o.cells != nil && o.cells[0].Params.ProfileName() != netem.NameDirect
		switch {
		case o.Metric == Throughput && (inMain || otherProfile):
			v.claim(o, throughputClaim(o))
		case o.Metric == P50 && inMain:
			v.claim(o, latencyClaim(o, "For one caller waiting on each reply"))
		case o.Metric == P99 && strings.HasPrefix(o.What, "tail") && (inMain || otherProfile):
			v.claim(o, latencyClaim(o, "For the tail under load"))
		}
	}
	for _, ch := range v.Codecs {
		v.Claims = append(v.Claims, Claim{Text: codecClaim(ch), Ref: ch.ID, Key: ch.Fastest.Key})
	}
}

func (v *Verdict) claim(o *Objective, text string) {
	v.Claims = append(v.Claims, Claim{Text: text, Ref: o.ID, Key: o.Best.Key})
}

// mainScope is the scope whose objectives compare the most cells.
func (v *Verdict) mainScope() string {
	n := map[string]int{}
	best, bestN := "", 0
	for _, o := range v.Objectives {
		n[o.Scope] = max(n[o.Scope], o.Contenders)
		if n[o.Scope] > bestN {
			best, bestN = o.Scope, n[o.Scope]
		}
	}
	return best
}

func throughputClaim(o *Objective) string {
	head := fmt.Sprintf("For many concurrent calls (%s, %s)", strings.TrimPrefix(o.What, "throughput at "), o.Scope)
	if !o.Clear {
		return fmt.Sprintf("%s: %s between %s (%s) and %s (%s).", head, o.Why, o.Best.Label, o.Metric.Format(o.Best.Median), o.RunnerUp.Label, o.Metric.Format(o.RunnerUp.Median))
	}
	s := fmt.Sprintf("%s: %s, %s, %s the throughput of the runner-up %s", head, o.Best.Label, o.Metric.Format(o.Best.Median), times(o.Margin), o.RunnerUp.Label)
	if g := grpcOf(o); g != nil && g.Key != o.Best.Key && g.Key != o.RunnerUp.Key {
		s += fmt.Sprintf(", %s gRPC's", times(MarginOf(cellOf(o.cells, o.Best.Key), g, Throughput)))
	}
	return s + "."
}

func latencyClaim(o *Objective, head string) string {
	head = fmt.Sprintf("%s (%s, %s)", head, o.What, o.Scope)
	if !o.Clear {
		return fmt.Sprintf("%s: %s between %s (%s) and %s (%s).", head, o.Why, o.Best.Label, o.Metric.Format(o.Best.Median), o.RunnerUp.Label, o.Metric.Format(o.RunnerUp.Median))
	}
	return fmt.Sprintf("%s: %s, %s %s, the runner-up %s %s (%s).", head, o.Best.Label, o.Metric.Name, o.Metric.Format(o.Best.Median),
		o.RunnerUp.Label, o.Metric.Format(o.RunnerUp.Median), lowerBy(o.Margin))
}

func codecClaim(ch *CodecChoice) string {
	s := fmt.Sprintf("Codec (%s): ", ch.Scope)
	if ch.FastestMargin.Excludes1() {
		s += fmt.Sprintf("%s is fastest, %s %s", ch.Fastest.Label, times(ch.FastestMargin), ch.FastestNext.Label)
	} else {
		s += fmt.Sprintf("no clear fastest between %s and %s", ch.Fastest.Label, ch.FastestNext.Label)
	}
	if ch.Smallest.Key != "" {
		s += fmt.Sprintf("; %s is smallest on the wire (%s per call)", ch.Smallest.Label, Wire.Format(ch.Smallest.Median))
	}
	if ch.JSON != nil {
		lost := 1 - 1/ch.JSONSpeed.Ratio
		s += fmt.Sprintf("; choosing JSON instead costs %.0f%% of the throughput", lost*100)
		if !ch.JSONSpeed.Excludes1() {
			s += " (within the noise)"
		}
		if ch.JSONBytes > 0 {
			s += fmt.Sprintf(", %.0f B more per call", ch.JSONBytes)
		}
		if ch.FastestCPU > 0 && ch.JSONCPU > 0 {
			s += fmt.Sprintf(" and %.2f× the CPU", ch.JSONCPU/ch.FastestCPU)
		}
	}
	return s + "."
}

// grpcOf returns the objective's gRPC cell, if it has one.
func grpcOf(o *Objective) *results.Cell {
	for _, c := range o.cells {
		if c.Params.Transport.Name == "grpc" {
			return c
		}
	}
	return nil
}

// times writes a higher-is-better margin as "1.8× [1.6–2.0]".
func times(m Margin) string { return m.String() }

// lowerBy writes a lower-is-better margin.
func lowerBy(m Margin) string { return m.String() + " lower" }
