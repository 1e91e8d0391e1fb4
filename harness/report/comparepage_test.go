package report

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"rpcbench/harness/compare"
	"rpcbench/harness/results"
	"rpcbench/internal/testenv"
)

// The comparison page marks a significant slowdown, draws old and new
// curves and repetitions per cell, and every chart draws in Chromium.
func TestCompareHTML(t *testing.T) {
	old, new := withRival(t), withRival(t)
	// Six repetitions each, the new quic cell 30% slower in every one.
	for _, run := range []*results.Run{old, new} {
		for _, c := range run.Cells {
			for len(c.Reps) > 0 && len(c.Reps) < 6 {
				r := *c.Reps[len(c.Reps)%2%len(c.Reps)]
				r.Rep = len(c.Reps)
				c.Reps = append(c.Reps, &r)
			}
		}
	}
	quic := new.Cells[len(new.Cells)-1]
	for i, r := range quic.Reps {
		f := *r.Figures
		f.Throughput *= 0.7 - 0.01*float64(i)
		r.Figures = &f
	}
	cmp, err := compare.Compare(old, new, compare.Options{Metrics: []*compare.Metric{compare.Metrics[0]}})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := CompareHTML(&b, cmp, "old", "new"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, `<tr class="worse"><td class="l">throughput</td>`); n != 1 {
		t.Errorf("%d throughput rows marked worse, want 1 (the quic cell)", n)
	}
	if !strings.Contains(page, ">old</text>") || !strings.Contains(page, ">new</text>") {
		t.Error("no old and new curves")
	}
	path := filepath.Join(t.TempDir(), "compare.html")
	if err := WriteFile(path, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		t.Fatal(err)
	}
	expected, rendered, err := RenderCheck(context.Background(), path)
	if err == ErrNoBrowser {
		testenv.Missing(t, "chromium", err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	if expected < 2*len(cmp.Rows) || rendered != expected {
		t.Errorf("charts: %d rendered of %d expected for %d cells", rendered, expected, len(cmp.Rows))
	}
}
