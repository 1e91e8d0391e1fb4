// Package record holds the harness's latency recording: HdrHistograms of
// nanoseconds (1 ns to 120 s, 3 significant digits), one per worker and
// merged at the end, their summaries, their portable encoding, and error
// counts by code.
//
// A Histogram is not safe for concurrent use: each worker records into its
// own and the engine merges them after the workers have stopped.
package record

import (
	"fmt"
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Range of every histogram the harness records, in nanoseconds. The
// issue's floor is "1 µs to at least 60 s"; recording nanoseconds from 1 ns
// keeps the sub-microsecond calls of the generator-ceiling cell visible.
const (
	Lowest  = 1
	Highest = 120e9
	Digits  = 3
)

// Histogram is a latency histogram of nanoseconds.
type Histogram struct {
	h *hdr.Histogram
	// clipped counts values above Highest, recorded as Highest.
	clipped int64
}

// New returns an empty histogram.
func New() *Histogram { return &Histogram{h: hdr.New(Lowest, Highest, Digits)} }

// NewCoarse returns an empty histogram of two significant digits (1%),
// an eighth of New's memory: for the many short intervals of a time
// series, where a percentile within 1% is plenty.
func NewCoarse() *Histogram { return &Histogram{h: hdr.New(Lowest, Highest, 2)} }

// Record adds one value in nanoseconds; values out of range are clamped
// (and counted) rather than dropped, so a stall is never lost.
func (h *Histogram) Record(ns int64) {
	if ns < Lowest {
		ns = Lowest
	}
	if ns > Highest {
		ns = Highest
		h.clipped++
	}
	_ = h.h.RecordValue(ns) // in range by construction
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil {
		return
	}
	h.h.Merge(o.h)
	h.clipped += o.clipped
}

// Reset empties h.
func (h *Histogram) Reset() { h.h.Reset(); h.clipped = 0 }

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Clipped is the number of values above Highest recorded as Highest.
func (h *Histogram) Clipped() int64 { return h.clipped }

// Quantile returns the value at quantile q in [0, 1].
func (h *Histogram) Quantile(q float64) int64 { return h.h.ValueAtQuantile(q * 100) }

// HDR exposes the underlying histogram for writers (.hgrm).
func (h *Histogram) HDR() *hdr.Histogram { return h.h }

// Summary is a histogram reduced to the figures reports show, all in
// nanoseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min_ns"`
	P50   int64   `json:"p50_ns"`
	P90   int64   `json:"p90_ns"`
	P99   int64   `json:"p99_ns"`
	P999  int64   `json:"p99_9_ns"`
	P9999 int64   `json:"p99_99_ns"`
	Max   int64   `json:"max_ns"`
	Mean  float64 `json:"mean_ns"`
	Stdev float64 `json:"stdev_ns"`
}

// Summary computes h's summary; an empty histogram gives a zero Summary.
func (h *Histogram) Summary() Summary {
	if h.Count() == 0 {
		return Summary{}
	}
	v := h.h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9, 99.99})
	return Summary{
		Count: h.Count(), Min: h.h.Min(),
		P50: v[0], P90: v[1], P99: v[2], P999: v[3], P9999: v[4],
		Max: h.h.Max(), Mean: round(h.h.Mean()), Stdev: round(h.h.StdDev()),
	}
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

// Encode returns the histogram in HdrHistogram's compressed V2 encoding,
// base64 text that HdrHistogram libraries in every language decode.
func (h *Histogram) Encode() (string, error) {
	b, err := h.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("record: encoding histogram: %w", err)
	}
	return string(b), nil
}

// Decode reads a histogram written by Encode. The empty string decodes to
// an empty histogram.
func Decode(s string) (*Histogram, error) {
	if s == "" {
		return New(), nil
	}
	d, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("record: decoding histogram: %w", err)
	}
	h := New()
	h.h.Merge(d)
	return h, nil
}

// DecodeMerged decodes every histogram in encs (written by Encode) into
// one.
func DecodeMerged(encs ...string) (*Histogram, error) {
	all := New()
	for _, s := range encs {
		h, err := Decode(s)
		if err != nil {
			return nil, err
		}
		all.Merge(h)
	}
	return all, nil
}
