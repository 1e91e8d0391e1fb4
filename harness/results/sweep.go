package results

import (
	"fmt"
	"time"
)

// Sweep is a rate sweep's steps, in rising target rate.
type Sweep struct {
	CapacityRate float64 `json:"capacity_rate"`
	P99BoundNs   int64   `json:"p99_bound_ns"`
	// SustainedRate is the achieved rate of the highest step that held
	// with every step below it held (Sustained).
	SustainedRate float64 `json:"sustained_rate"`
	Steps         []*Step `json:"steps"`
	// NonMonotonic are the target rates of steps that failed, re-run
	// included, while a higher step held.
	NonMonotonic []float64 `json:"non_monotonic,omitempty"`
}

// Step is one rate of a sweep: the attempt that counts.
type Step struct {
	// Rate is the spec's rate the step stands for ("5%" or "20000"), to
	// line up the steps of repetitions whose probes differ.
	Rate       string   `json:"rate,omitempty"`
	TargetRate float64  `json:"target_rate"`
	Held       bool     `json:"held"`
	Reason     string   `json:"reason,omitempty"`
	Figures    *Figures `json:"figures"`
	// FirstTry is the attempt that failed before this re-run: a step
	// fails only if it fails twice, so one noisy window cannot sink a
	// sweep, and both attempts are kept.
	FirstTry *Step `json:"first_try,omitempty"`
}

// Sustained returns the achieved rate of the highest step that held with
// every step below it held (0 if the first step failed), and the target
// rates of failed steps below a step that held: a curve that is not
// monotonic, whose failures are not saturation.
func Sustained(steps []*Step) (rate float64, nonMonotonic []float64) {
	prefix := true
	lastHeld := -1
	for i, st := range steps {
		if st.Held {
			lastHeld = i
			if prefix && st.Figures != nil {
				rate = max(rate, st.Figures.Throughput)
			}
		} else {
			prefix = false
		}
	}
	for i := 0; i < lastHeld; i++ {
		if !steps[i].Held {
			nonMonotonic = append(nonMonotonic, steps[i].TargetRate)
		}
	}
	return rate, nonMonotonic
}

// NonMonotonicMeaning is what a failed step below a held one says, for the
// reports.
const NonMonotonicMeaning = "a step failed (on its re-run too) while a higher rate held: the stack's saturation cannot explain it. " +
	"Either the machine stalled (a neighbour's burst, idle CPUs waking slowly), or the load process was near its CPU's limit: " +
	"at a low rate calls do not batch, so each pays its own system calls and wake-ups (the step's load CPU busy and CPU per call), " +
	"while at a higher rate they batch again and cost less; the sustained rate counts only the steps below the first failure"

// PacerLimit is the pacer lag p99 under which the open-loop generator is
// taken to keep its schedule.
const PacerLimit = 50 * time.Microsecond

// PacerCeiling is the open-loop generator's own check: a no-op target
// driven open loop at the highest rate any sweep reached (and at lower
// rates, halving, until one holds), so that its lateness, not the
// system's, cannot be what the open-loop figures measure.
type PacerCeiling struct {
	Key string `json:"key"`
	// TopRate is the highest target rate of any open-loop window in the
	// run, the rate the no-op cell ran at first.
	TopRate float64 `json:"top_rate"`
	// LagP99Ns is the pacer lag p99 at the top rate (median of
	// repetitions); OK when under LimitNs.
	LagP99Ns int64 `json:"lag_p99_ns"`
	LimitNs  int64 `json:"limit_ns"`
	// HeldRate is the highest rate at which the no-op cell's pacer lag
	// p99 stayed under the limit (median of repetitions; 0: none).
	HeldRate float64 `json:"held_rate"`
	// LowestRate is the lowest rate tried and LowLagP99Ns the pacer lag
	// p99 there (medians of repetitions): with HeldRate 0, how late the
	// pacer still was when it had the least to do.
	LowestRate  float64 `json:"lowest_rate,omitempty"`
	LowLagP99Ns int64   `json:"low_lag_p99_ns,omitempty"`
	OK          bool    `json:"ok"`
	Explanation string  `json:"explanation"`
}

// Suspect reports whether an open-loop figure at target rate is above
// what the pacer was shown to keep.
func (p *PacerCeiling) Suspect(rate float64) bool {
	return p != nil && !p.OK && rate > p.HeldRate
}

// Explain fills OK and Explanation from the other fields.
func (p *PacerCeiling) Explain() {
	p.OK = p.LagP99Ns < p.LimitNs
	if p.OK {
		p.Explanation = fmt.Sprintf("the pacer alone, driving a no-op target at %s calls/s (the highest open-loop rate of the run), is late by %v at p99 (limit %v): open-loop latency is the system's",
			FormatRate(p.TopRate), time.Duration(p.LagP99Ns), time.Duration(p.LimitNs))
		return
	}
	if p.HeldRate <= 0 && p.LowestRate > 0 {
		p.Explanation = fmt.Sprintf("the pacer alone, driving a no-op target at %s calls/s, is late by %v at p99 (limit %v), and in most repetitions no lower rate tried held either: "+
			"down to %s calls/s it was still late by %v at p99, with no network and no server: its own wake-ups from sleep between releases, which every open-loop latency here may carry",
			FormatRate(p.TopRate), time.Duration(p.LagP99Ns), time.Duration(p.LimitNs), FormatRate(p.LowestRate), time.Duration(p.LowLagP99Ns))
		return
	}
	p.Explanation = fmt.Sprintf("the pacer alone, driving a no-op target at %s calls/s, is late by %v at p99 (limit %v); it kept its schedule only up to %s calls/s, so every open-loop figure above that rate may measure the generator",
		FormatRate(p.TopRate), time.Duration(p.LagP99Ns), time.Duration(p.LimitNs), FormatRate(p.HeldRate))
}
