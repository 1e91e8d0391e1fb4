package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"rpcbench/harness/record"
	"rpcbench/harness/results"
)

// HgrmScale is the unit of .hgrm values: microseconds (values are
// recorded in nanoseconds).
const HgrmScale = 1000.0

// HgrmUnitLine opens every .hgrm file: the format has no unit field, so
// a comment states it (plotters skip lines that are not rows).
const HgrmUnitLine = "#[Value unit: microseconds (µs); recorded in nanoseconds]\n"

// WriteHgrm writes h in HdrHistogram's percentile-distribution text
// (Value, Percentile, TotalCount, 1/(1-Percentile)), values in
// microseconds, as wrk2 and HdrHistogram's plotters read it, after a
// comment line that names the unit.
func WriteHgrm(w io.Writer, h *record.Histogram) error {
	if _, err := io.WriteString(w, HgrmUnitLine); err != nil {
		return err
	}
	_, err := h.HDR().PercentilesPrint(w, 5, HgrmScale)
	return err
}

// WriteHgrms writes one .hgrm per cell that ran (the merged, corrected
// histogram) into dir, plus NAME.uncorrected.hgrm for open-loop cells.
func WriteHgrms(dir string, run *results.Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range run.Cells {
		if !c.Ran() {
			continue
		}
		for _, v := range []struct{ enc, suffix string }{{c.Merged.Hist, ".hgrm"}, {c.Merged.UncorrHist, ".uncorrected.hgrm"}} {
			if v.enc == "" {
				continue
			}
			h, err := record.Decode(v.enc)
			if err != nil {
				return fmt.Errorf("report: cell %s: %w", c.Key, err)
			}
			path := filepath.Join(dir, FileName(c.Key)+v.suffix)
			if err := WriteFile(path, func(w io.Writer) error { return WriteHgrm(w, h) }); err != nil {
				return err
			}
		}
	}
	return nil
}
