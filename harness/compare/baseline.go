package compare

import (
	"fmt"
	"slices"
	"strings"

	"rpcbench/harness/results"
	"rpcbench/harness/runner"
)

// Pool makes one baseline of several runs of the same spec: each cell
// gets the repetitions of every run, renumbered so that a repetition still
// pairs with its own run's reference cell. Pooling runs puts the
// run-to-run spread, not only the rep-to-rep one, into the baseline's
// samples. The first run's manifest is kept, with a note naming the
// others. Cells not in every run are dropped, with a note.
func Pool(runs []*results.Run) (*results.Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("compare: no runs to pool")
	}
	first := runs[0]
	out := *first
	out.Cells = nil
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.RunID)
		if r.Manifest.SpecName != first.Manifest.SpecName {
			return nil, fmt.Errorf("compare: cannot pool run %s of spec %q with run %s of spec %q", r.RunID, r.Manifest.SpecName, first.RunID, first.Manifest.SpecName)
		}
	}
	out.Manifest.Notes = slices.Clone(first.Manifest.Notes)
	for _, c := range first.Cells {
		pooled := *c
		pooled.Reps = nil
		offset := 0
		missing := ""
		for _, r := range runs {
			rc := r.Cell(c.Key)
			if rc == nil {
				missing = r.RunID
				break
			}
			next := offset
			for _, rep := range rc.Reps {
				cp := *rep
				cp.Rep += offset
				pooled.Reps = append(pooled.Reps, &cp)
				next = max(next, cp.Rep+1)
			}
			offset = next
		}
		if missing != "" {
			out.Manifest.Notes = append(out.Manifest.Notes, fmt.Sprintf("baseline: cell %s dropped: not in run %s", c.Key, missing))
			continue
		}
		runner.Merge(&pooled)
		out.Cells = append(out.Cells, &pooled)
	}
	if len(runs) > 1 {
		out.Manifest.Notes = append(out.Manifest.Notes, fmt.Sprintf("baseline: repetitions pooled from %d runs: %s", len(runs), strings.Join(ids, ", ")))
	}
	return &out, nil
}

// StripHistograms removes the encoded histograms, which the gate does not
// read, so that a committed baseline stays small. Summaries stay.
func StripHistograms(run *results.Run) {
	strip := func(f *results.Figures) {
		if f != nil {
			f.Hist, f.UncorrectedHist, f.ErrorHist = "", "", ""
			f.Series = nil
		}
	}
	for _, c := range run.Cells {
		for _, r := range c.Reps {
			strip(r.Figures)
			if r.Sweep != nil {
				for _, s := range r.Sweep.Steps {
					strip(s.Figures)
					if s.FirstTry != nil {
						strip(s.FirstTry.Figures)
					}
				}
			}
		}
		if c.Merged != nil {
			c.Merged.Hist, c.Merged.UncorrHist = "", ""
		}
	}
}

// repsOf is the largest number of repetitions any cell has.
func repsOf(r *results.Run) int {
	n := 0
	for _, c := range r.Cells {
		n = max(n, len(c.Reps))
	}
	return n
}
