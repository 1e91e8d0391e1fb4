package runner

import (
	"slices"
	"strings"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
)

// mergeAll summarises every cell over the repetitions it has so far.
func mergeAll(run *results.Run) {
	for _, c := range run.Cells {
		Merge(c)
	}
}

// Merge fills c.Merged and c.Status from c.Reps: latency from the merged
// histogram of every repetition, throughput and per-call costs as medians.
func Merge(c *results.Cell) {
	if c.Status == results.StatusSkipped {
		return
	}
	c.Failures = c.Failures[:0]
	var figs []*results.Figures
	var sweeps []*results.Sweep
	failedReps, errorReps, degradedReps := 0, 0, 0
	for _, rr := range c.Reps {
		switch rr.Status {
		case results.StatusDegraded:
			// A worker's load went missing: nothing of it is merged.
			degradedReps++
			addFailure(c, rr.Rep, rr.Error)
			continue
		case results.StatusFailed:
			failedReps++
			addFailure(c, rr.Rep, rr.Error)
			continue
		case results.StatusErrors:
			errorReps++
		}
		if rr.Figures != nil {
			figs = append(figs, rr.Figures)
		}
		if rr.Sweep != nil {
			sweeps = append(sweeps, rr.Sweep)
		}
	}
	if len(figs) == 0 {
		c.Merged = nil
		c.Status = results.StatusFailed
		if len(c.Reps) == 0 {
			c.Status = results.StatusOK // not run yet
		} else if degradedReps > 0 {
			c.Status = results.StatusDegraded
		}
		return
	}
	m := &results.Merged{Reps: len(figs), ErrorsByCode: map[string]int64{}}
	lat, unc := record.New(), record.New()
	hasUnc := false
	var tp []float64
	for _, f := range figs {
		if h, err := record.Decode(f.Hist); err == nil {
			lat.Merge(h)
		}
		if f.UncorrectedHist != "" {
			hasUnc = true
			if h, err := record.Decode(f.UncorrectedHist); err == nil {
				unc.Merge(h)
			}
		}
		tp = append(tp, f.Throughput)
		m.Errors += f.Errors
		for k, v := range f.ErrorsByCode {
			m.ErrorsByCode[k] += v
		}
		if f.Open != nil {
			m.Behind = m.Behind || f.Open.Behind
			m.Saturated = m.Saturated || f.Open.Saturated
		}
	}
	for _, sw := range sweeps {
		for _, st := range sw.Steps {
			for _, f := range []*results.Figures{st.Figures, firstTry(st)} {
				if f == nil {
					continue
				}
				m.Errors += f.Errors
				for k, v := range f.ErrorsByCode {
					m.ErrorsByCode[k] += v
				}
			}
		}
	}
	if len(m.ErrorsByCode) == 0 {
		m.ErrorsByCode = nil
	}
	m.Latency = lat.Summary()
	m.Hist, _ = lat.Encode()
	if hasUnc {
		s := unc.Summary()
		m.Uncorrected = &s
		m.UncorrHist, _ = unc.Encode()
	}
	m.Throughput = stat(tp)
	med := func(get func(*results.PerCall) float64) float64 {
		v := make([]float64, len(figs))
		for i, f := range figs {
			v[i] = get(&f.PerCall)
		}
		return stat(v).Median
	}
	m.PerCall = results.PerCall{
		ClientCPUNs:      med(func(p *results.PerCall) float64 { return p.ClientCPUNs }),
		ServerCPUNs:      med(func(p *results.PerCall) float64 { return p.ServerCPUNs }),
		ClientAllocs:     med(func(p *results.PerCall) float64 { return p.ClientAllocs }),
		ClientAllocBytes: med(func(p *results.PerCall) float64 { return p.ClientAllocBytes }),
		ServerAllocs:     med(func(p *results.PerCall) float64 { return p.ServerAllocs }),
		ServerAllocBytes: med(func(p *results.PerCall) float64 { return p.ServerAllocBytes }),
		WireOut:          med(func(p *results.PerCall) float64 { return p.WireOut }),
		WireIn:           med(func(p *results.PerCall) float64 { return p.WireIn }),
		ServerWireIn:     med(func(p *results.PerCall) float64 { return p.ServerWireIn }),
		ServerWireOut:    med(func(p *results.PerCall) float64 { return p.ServerWireOut }),
		ClientPeakRSS:    uint64(med(func(p *results.PerCall) float64 { return float64(p.ClientPeakRSS) })),
		ServerPeakRSS:    uint64(med(func(p *results.PerCall) float64 { return float64(p.ServerPeakRSS) })),
		Combined:         figs[0].PerCall.Combined,
		ServerUnknown:    figs[0].PerCall.ServerUnknown,
	}
	if len(sweeps) > 0 {
		var capa, sus []float64
		for _, sw := range sweeps {
			capa = append(capa, sw.CapacityRate)
			sus = append(sus, sw.SustainedRate)
		}
		m.CapacityRate, m.SustainedRate = stat(capa).Median, stat(sus).Median
	}
	c.Merged = m
	switch {
	case degradedReps > 0:
		c.Status = results.StatusDegraded
	case failedReps > 0 || errorReps > 0 || m.Errors > 0:
		c.Status = results.StatusErrors
	case m.Behind:
		c.Status = results.StatusBehind
	default:
		c.Status = results.StatusOK
	}
}

// addFailure records a failed repetition, folding identical errors into
// one line ("reps 1, 2, 3: ...").
func addFailure(c *results.Cell, rep int, msg string) {
	for i, f := range c.Failures {
		head, rest, ok := strings.Cut(f, ": ")
		if ok && rest == msg && strings.HasPrefix(head, "rep") {
			nums := strings.TrimPrefix(strings.TrimPrefix(head, "reps "), "rep ")
			c.Failures[i] = "reps " + nums + ", " + itoa(rep+1) + ": " + msg
			return
		}
	}
	c.Failures = append(c.Failures, "rep "+itoa(rep+1)+": "+msg)
}

// stat returns the median and range of v.
func stat(v []float64) results.Stat {
	if len(v) == 0 {
		return results.Stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return results.Stat{Median: med, Min: s[0], Max: s[len(s)-1]}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// Summarise fills every cell's Merged and the run's generator ceiling, as
// a run's end does, for a run assembled from others (package loadmerge).
func Summarise(run *results.Run) {
	mergeAll(run)
	run.Manifest.GeneratorCeiling = ceiling(run)
	run.Manifest.PacerCeiling = pacerCeiling(run)
}

// firstTry is the figures of a re-run step's failed first attempt, or nil.
func firstTry(st *results.Step) *results.Figures {
	if st.FirstTry == nil {
		return nil
	}
	return st.FirstTry.Figures
}
