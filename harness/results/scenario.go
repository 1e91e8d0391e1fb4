package results

import (
	"fmt"

	"rpcbench/harness/record"
	"rpcbench/harness/spec"
)

// Scenario is a resilience scenario's results: its settings and one run
// per balancer × retry policy × repetition.
type Scenario struct {
	Name     string         `json:"name"`
	Settings spec.Scenario  `json:"settings"`
	Runs     []*ScenarioRun `json:"runs"`
}

// RunLabel is the run's retry policy, with its repetition if the scenario
// has several.
func (sc *Scenario) RunLabel(r *ScenarioRun) string {
	if sc.Settings.Repetitions > 1 {
		return fmt.Sprintf("%s (rep %d)", r.Retries, r.Rep+1)
	}
	return r.Retries
}

// ScenarioRun is one run of a scenario. Calls are placed on the timeline
// by their start (the intended send time in open loop), so a call belongs
// to the moment its load was offered; traffic per instance is counted
// when the instance answers.
type ScenarioRun struct {
	Balancer string `json:"balancer"`
	Retries  string `json:"retries"`
	Rep      int    `json:"rep"`
	// Status is ok (the run completed; failed calls are its figures, not a
	// problem) or failed (it could not run: Error says why).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Issued calls: scheduled (open loop) or sent (closed loop). Every one
	// ends OK or Failed: Issued == OK + Failed.
	Issued       int64             `json:"issued"`
	OK           int64             `json:"ok"`
	Failed       int64             `json:"failed"`
	FailedByCode map[string]int64  `json:"failed_by_code,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Client holds the cluster client's counters over the timeline.
	Client ClusterCounters `json:"client"`
	// Faults as applied, with the time until the scenario was error-free
	// again after each.
	Faults []FaultOutcome `json:"faults"`
	// Phases: before the first fault, during the fault window, after it
	// (spec.Scenario.FaultWindow).
	Before Phase  `json:"before"`
	During Phase  `json:"during"`
	After  *Phase `json:"after,omitempty"`
	// Timeline, one entry per bucket of BucketNs.
	BucketNs int64   `json:"bucket_ns"`
	OKs      []int64 `json:"ok_per_bucket"`
	Fails    []int64 `json:"failed_per_bucket"`
	// Served counts calls each instance answered per bucket; Instances
	// are the instance IDs in order (i1, i2, ...).
	Instances []string  `json:"instances"`
	Served    [][]int64 `json:"served_per_bucket"`
	// Open is the generator's schedule keeping in open loop.
	Open *Open `json:"open,omitempty"`
	// Notes record what the harness noticed (a fault that could not be
	// applied, calls answered after the timeline).
	Notes []string `json:"notes,omitempty"`
}

// ClusterCounters are the cluster client's own counts.
type ClusterCounters struct {
	Attempts     uint64 `json:"attempts"`
	Retries      uint64 `json:"retries"`
	Hedges       uint64 `json:"hedges"`
	BudgetDenied uint64 `json:"budget_denied"`
}

// FaultOutcome is one fault event as applied.
type FaultOutcome struct {
	spec.Fault
	// AppliedNs is when it took effect, from the timeline's start.
	AppliedNs int64  `json:"applied_ns"`
	Error     string `json:"error,omitempty"`
	// ErrorFreeAfterNs is how long after the fault the first stretch of
	// Settle without a failed call began; 0 if the fault caused no
	// failures, -1 if no such stretch came before the end.
	ErrorFreeAfterNs int64 `json:"error_free_after_ns"`
}

// ErrorFreeText is the time until error-free again after the fault as the
// reports show it: a duration, "0" if the fault caused no failures, "not
// within the run", or "not applied (why)".
func (f *FaultOutcome) ErrorFreeText() string {
	switch {
	case f.Error != "":
		return "not applied (" + f.Error + ")"
	case f.ErrorFreeAfterNs < 0:
		return "not within the run"
	case f.ErrorFreeAfterNs == 0:
		return "0"
	}
	return FormatNs(float64(f.ErrorFreeAfterNs))
}

// Phase is one part of the timeline.
type Phase struct {
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
	OK      int64 `json:"ok"`
	Failed  int64 `json:"failed"`
	// Latency of successful calls (corrected in open loop).
	Latency record.Summary `json:"latency"`
	Hist    string         `json:"hist,omitempty"`
}
