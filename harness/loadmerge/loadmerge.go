// Package loadmerge combines the runs of load processes that ran one spec
// against one server at the same time ("rpcbench bench --server ADDR
// --load-id N" on several hosts, then "rpcbench merge") into one run, for
// loads that one client host cannot generate.
//
// Per cell and repetition: the latency histograms are merged (so the
// percentiles are those of every call of every process), calls, errors and
// throughputs are summed, the client costs are summed for the per-call
// figures and each process's own figures are kept under "loads", and the
// server's costs are taken once, from the first process's window, and
// divided by the calls of all of them. That is true when the windows
// coincide; the manifest notes how far they overlapped.
package loadmerge

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/harness/spec"
)

// minOverlap is the window overlap below which the merged run carries a
// warning: the summed throughput then is not that of one moment.
const minOverlap = 0.9

// Merge combines runs, in order; dirs (may be nil) name where each was
// read from, for the manifest.
func Merge(runs []*results.Run, dirs []string) (*results.Run, error) {
	if err := compatible(runs); err != nil {
		return nil, err
	}
	first := runs[0]
	out := &results.Run{Schema: results.Schema, SchemaVersion: results.SchemaVersion, Manifest: first.Manifest}
	out.RunID = strings.TrimSuffix(first.RunID, fmt.Sprintf("-load%d", first.Manifest.LoadID)) + "-merged"
	m := &out.Manifest
	m.LoadID, m.Loads, m.Notes, m.Command = 0, nil, slices.Clone(first.Manifest.Notes), nil
	for i, r := range runs {
		l := results.Load{LoadID: r.Manifest.LoadID, RunID: r.RunID, Command: r.Manifest.Command, Started: r.Manifest.Started, Finished: r.Manifest.Finished,
			Host: r.Manifest.ClientHost()}
		if i < len(dirs) {
			l.Dir = dirs[i]
		}
		m.Loads = append(m.Loads, l)
		m.Started = minTime(m.Started, r.Manifest.Started)
		if r.Manifest.Finished.After(m.Finished) {
			m.Finished = r.Manifest.Finished
		}
	}
	worst := overlapNote{frac: 1}
	for i := range first.Cells {
		cells := make([]*results.Cell, len(runs))
		for j, r := range runs {
			cells[j] = r.Cells[i]
		}
		c, err := mergeCell(cells, &worst)
		if err != nil {
			return nil, err
		}
		out.Cells = append(out.Cells, c)
	}
	if first.Manifest.ServerHost == nil {
		m.Notes = append(m.Notes, fmt.Sprintf("merged from %d load processes run at once against the same external targets: histograms merged, calls and throughputs summed, client costs summed (each process's under loads); the targets' server costs are unknown", len(runs)))
	} else {
		m.Notes = append(m.Notes, fmt.Sprintf("merged from %d load processes run at once against one server: histograms merged, calls and throughputs summed, client costs summed (each process's under loads), server costs from load %d's window divided by the calls of all", len(runs), first.Manifest.LoadID))
	}
	if worst.frac < 1 {
		note := fmt.Sprintf("the load processes' windows overlapped by at least %.0f%% (least: %s rep %d)", 100*worst.frac, worst.key, worst.rep+1)
		if worst.frac < minOverlap {
			note = "WARNING: " + note + ": summed throughputs and shared server costs assume windows that coincide"
		}
		m.Notes = append(m.Notes, note)
	}
	runner.Summarise(out)
	return out, nil
}

// compatible checks that runs are load processes of one spec against one
// server.
func compatible(runs []*results.Run) error {
	if len(runs) < 2 {
		return errors.New("loadmerge: want the runs of two or more load processes")
	}
	first := runs[0]
	spec0, _ := json.Marshal(first.Manifest.Spec)
	ids := map[string]bool{}
	for i, r := range runs {
		m := r.Manifest
		if m.ServerHost == nil && !targetsOnly(r) {
			return fmt.Errorf("loadmerge: run %s started its own servers: only runs against one shared server (bench --server ADDR) or external targets can be merged", r.RunID)
		}
		if ids[r.RunID] {
			return fmt.Errorf("loadmerge: run %s given twice", r.RunID)
		}
		ids[r.RunID] = true
		if i == 0 {
			continue
		}
		s0, s := first.Manifest.ServerHost, m.ServerHost
		if (s0 == nil) != (s == nil) {
			return fmt.Errorf("loadmerge: run %s and run %s did not measure the same kind of server", first.RunID, r.RunID)
		}
		if s != nil && (s.Hostname != s0.Hostname || s.PID != s0.PID) {
			return fmt.Errorf("loadmerge: run %s measured server pid %d on %s, run %s pid %d on %s: not one server", first.RunID, s0.PID, s0.Hostname, r.RunID, s.PID, s.Hostname)
		}
		if b, _ := json.Marshal(m.Spec); string(b) != string(spec0) {
			return fmt.Errorf("loadmerge: runs %s and %s ran different specs (or different --reps, --duration, --warmup)", first.RunID, r.RunID)
		}
		if len(r.Cells) != len(first.Cells) {
			return fmt.Errorf("loadmerge: run %s has %d cells, run %s %d", first.RunID, len(first.Cells), r.RunID, len(r.Cells))
		}
		for k, c := range r.Cells {
			if c.Key != first.Cells[k].Key {
				return fmt.Errorf("loadmerge: cell %d is %s in run %s but %s in run %s", k+1, first.Cells[k].Key, first.RunID, c.Key, r.RunID)
			}
		}
	}
	return nil
}

// targetsOnly reports whether every cell of r that ran measured an
// external target (besides the generator's own ceiling cells): the target
// is then the one server all load processes shared, the spec's targets
// map (compared whole) naming it.
func targetsOnly(r *results.Run) bool {
	n := 0
	for _, c := range r.Cells {
		switch {
		case c.Params.Target != "":
			n++
		case c.Params.Transport.Name != spec.NoopTransport && c.Status != results.StatusSkipped:
			return false
		}
	}
	return n > 0
}

// mergeCell combines one cell of every load.
func mergeCell(cells []*results.Cell, worst *overlapNote) (*results.Cell, error) {
	c0 := cells[0]
	c := &results.Cell{Key: c0.Key, Group: c0.Group, Params: c0.Params, Status: results.StatusOK}
	for _, x := range cells {
		if x.Status == results.StatusSkipped {
			c.Status, c.SkipReason = results.StatusSkipped, x.SkipReason
			return c, nil
		}
	}
	if c0.Params.Load.Kind == "sweep" {
		c.Status, c.SkipReason = results.StatusSkipped, "sweeps are not merged: each load process probed and stepped its own rates"
		return c, nil
	}
	for _, rr0 := range c0.Reps {
		rr := &results.Rep{Rep: rr0.Rep}
		var figs []*results.Figures
		var failed []string
		for j, x := range cells {
			i := slices.IndexFunc(x.Reps, func(r *results.Rep) bool { return r.Rep == rr0.Rep })
			switch {
			case i < 0:
				failed = append(failed, fmt.Sprintf("load %d did not run it", j+1))
			case x.Reps[i].Status == results.StatusFailed || x.Reps[i].Figures == nil:
				failed = append(failed, fmt.Sprintf("load %d: %s", j+1, x.Reps[i].Error))
			default:
				figs = append(figs, x.Reps[i].Figures)
			}
		}
		if len(failed) > 0 {
			rr.Status, rr.Error = results.StatusFailed, strings.Join(failed, "; ")
		} else {
			f, err := Sum(figs)
			if err != nil {
				return nil, fmt.Errorf("loadmerge: %s rep %d: %w", c.Key, rr.Rep+1, err)
			}
			rr.Figures, rr.Status = f, runner.StatusOf(f)
			worst.update(figs, c.Key, rr.Rep)
		}
		c.Reps = append(c.Reps, rr)
	}
	return c, nil
}

// Sum adds up the figures of one window measured by several processes:
// histograms merged, counts, throughputs and client costs summed, each
// process's figures kept under Loads, the server's costs those of the
// first (nil where it had none).
func Sum(figs []*results.Figures) (*results.Figures, error) {
	f0 := figs[0]
	out := &results.Figures{Loads: figs, Server: f0.Server, StartedUnixNs: f0.StartedUnixNs}
	for _, f := range figs {
		out.Calls += f.Calls
		out.OK += f.OK
		out.Errors += f.Errors
		out.ErrorsByCode = addCounts(out.ErrorsByCode, f.ErrorsByCode)
		for k, v := range f.ErrorSamples {
			if out.ErrorSamples == nil {
				out.ErrorSamples = map[string]string{}
			}
			if _, ok := out.ErrorSamples[k]; !ok {
				out.ErrorSamples[k] = v
			}
		}
		out.ElapsedNs = max(out.ElapsedNs, f.ElapsedNs)
		out.Throughput += f.Throughput
		out.Client = out.Client.Add(f.Client)
		out.Open = addOpen(out.Open, f.Open)
	}
	lat, err := mergeHists(figs, func(f *results.Figures) string { return f.Hist })
	if err != nil {
		return nil, err
	}
	out.Latency, out.Hist = *lat.summary, lat.enc
	if h, err := mergeHists(figs, func(f *results.Figures) string { return f.UncorrectedHist }); err != nil {
		return nil, err
	} else if h.enc != "" {
		out.Uncorrected, out.UncorrectedHist = h.summary, h.enc
	}
	if h, err := mergeHists(figs, func(f *results.Figures) string { return f.ErrorHist }); err != nil {
		return nil, err
	} else if h.enc != "" {
		out.ErrorLatency, out.ErrorHist = h.summary, h.enc
	}
	out.SetPerCall()
	out.PerCall.ServerUnknown = f0.PerCall.ServerUnknown // an external target's server stays unmeasured
	return out, nil
}

// merged is a histogram merged over loads: its summary and encoding, or
// an empty encoding where no load had one.
type merged struct {
	summary *record.Summary
	enc     string
}

func mergeHists(figs []*results.Figures, get func(*results.Figures) string) (merged, error) {
	var encs []string
	for _, f := range figs {
		if s := get(f); s != "" {
			encs = append(encs, s)
		}
	}
	h, err := record.DecodeMerged(encs...)
	if err != nil {
		return merged{}, err
	}
	s := h.Summary()
	out := merged{summary: &s}
	if len(encs) > 0 {
		out.enc, err = h.Encode()
	}
	return out, err
}

func addCounts(a, b map[string]int64) map[string]int64 {
	for k, v := range b {
		if a == nil {
			a = map[string]int64{}
		}
		a[k] += v
	}
	return a
}

// addOpen combines open-loop schedules: rates and counts add up, the
// lateness of the latest pacer stands, one process behind makes all.
func addOpen(a, b *results.Open) *results.Open {
	if b == nil {
		return a
	}
	if a == nil {
		c := *b
		return &c
	}
	a.TargetRate += b.TargetRate
	a.AchievedRate += b.AchievedRate
	a.Scheduled += b.Scheduled
	a.Unsent += b.Unsent
	a.Blocked += b.Blocked
	a.PacerLagP50Ns = max(a.PacerLagP50Ns, b.PacerLagP50Ns)
	a.PacerLagP99Ns = max(a.PacerLagP99Ns, b.PacerLagP99Ns)
	a.QueueP99Ns = max(a.QueueP99Ns, b.QueueP99Ns)
	a.Behind = a.Behind || b.Behind
	a.Saturated = a.Saturated || b.Saturated
	if a.Note == "" {
		a.Note = b.Note
	}
	return a
}

// overlapNote keeps the least overlap of the loads' windows seen.
type overlapNote struct {
	frac float64
	key  string
	rep  int
}

// update measures how much the windows of figs overlap: the time all ran
// over the time any ran.
func (o *overlapNote) update(figs []*results.Figures, key string, rep int) {
	if figs[0].Server == nil && figs[0].PerCall.ServerUnknown == "" {
		return // a cell without a server (the generator ceiling)
	}
	var lastStart, firstEnd, firstStart, lastEnd int64
	for i, f := range figs {
		if f.StartedUnixNs == 0 {
			return // written before windows had start times
		}
		start, end := f.StartedUnixNs, f.StartedUnixNs+f.ElapsedNs
		if i == 0 {
			lastStart, firstEnd, firstStart, lastEnd = start, end, start, end
			continue
		}
		lastStart, firstEnd = max(lastStart, start), min(firstEnd, end)
		firstStart, lastEnd = min(firstStart, start), max(lastEnd, end)
	}
	frac := 0.0
	if lastEnd > firstStart && firstEnd > lastStart {
		frac = float64(firstEnd-lastStart) / float64(lastEnd-firstStart)
	}
	if frac < o.frac {
		*o = overlapNote{frac: frac, key: key, rep: rep}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
