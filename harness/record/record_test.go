package record

import (
	"math/rand/v2"
	"testing"
)

func TestMergeEqualsOneHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	all := New()
	parts := []*Histogram{New(), New(), New()}
	for i := 0; i < 30000; i++ {
		v := int64(r.ExpFloat64()*50e3) + 1000 // ~50 µs mean, ns
		if i%1000 == 0 {
			v = int64(r.IntN(5e9)) // a few stalls up to 5 s
		}
		all.Record(v)
		parts[i%3].Record(v)
	}
	merged := New()
	for _, p := range parts {
		merged.Merge(p)
	}
	if merged.Summary() != all.Summary() {
		t.Fatalf("merged %+v\n   all %+v", merged.Summary(), all.Summary())
	}
	// Merging is what results.json and reports do after decoding.
	enc, err := parts[0].Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Summary() != parts[0].Summary() {
		t.Fatalf("decoded %+v, want %+v", dec.Summary(), parts[0].Summary())
	}
	re := New()
	for _, p := range parts {
		s, _ := p.Encode()
		h, err := Decode(s)
		if err != nil {
			t.Fatal(err)
		}
		re.Merge(h)
	}
	if re.Summary() != all.Summary() {
		t.Fatal("merging decoded histograms differs from merging the originals")
	}
}

func TestSummaryAndRange(t *testing.T) {
	h := New()
	for v := int64(1); v <= 1000; v++ {
		h.Record(v * 1000) // 1 µs .. 1 ms
	}
	s := h.Summary()
	if s.Count != 1000 || s.Min != 1000 {
		t.Fatalf("%+v", s)
	}
	near := func(got, want int64) bool { return got >= want*999/1000 && got <= want*1001/1000 }
	for _, c := range []struct{ got, want int64 }{{s.P50, 500e3}, {s.P90, 900e3}, {s.P99, 990e3}, {s.P999, 999e3}, {s.Max, 1000e3}} {
		if !near(c.got, c.want) {
			t.Errorf("got %d, want %d within 3 significant digits", c.got, c.want)
		}
	}
	// Out of range values are clamped and counted, never lost.
	h.Record(-5)
	h.Record(500e9)
	if h.Count() != 1002 || h.Clipped() != 1 || h.Summary().Max < Highest*999/1000 {
		t.Fatalf("count %d clipped %d max %d", h.Count(), h.Clipped(), h.Summary().Max)
	}
	// 60 s must be representable to 3 digits.
	g := New()
	g.Record(60e9)
	if m := g.Summary().Max; m < 59.94e9 || m > 60.06e9 {
		t.Fatalf("60 s recorded as %d", m)
	}
	if (&Histogram{h: New().h}).Summary() != (Summary{}) {
		t.Fatal("empty summary not zero")
	}
}

func TestRecorderMerge(t *testing.T) {
	a, b := NewRecorder(true), NewRecorder(true)
	a.OK(10e3, 5e3)
	b.OK(20e3, 6e3)
	b.Fail("unavailable", "connection lost", 30e3)
	b.Fail("unavailable", "again", 40e3)
	a.Fail("deadline_exceeded", "late", 50e3)
	m := NewRecorder(true)
	m.Merge(a)
	m.Merge(b)
	if m.Latency.Count() != 2 || m.Uncorrected.Count() != 2 || m.ErrLatency.Count() != 3 || m.ErrorCount() != 3 {
		t.Fatalf("merged counts: %d %d %d %d", m.Latency.Count(), m.Uncorrected.Count(), m.ErrLatency.Count(), m.ErrorCount())
	}
	if m.Errors["unavailable"] != 2 || m.FirstError["unavailable"] != "connection lost" {
		t.Fatalf("errors %v %v", m.Errors, m.FirstError)
	}
}
