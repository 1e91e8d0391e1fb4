// Package bench measures rpcbench's codecs and compressors on the
// benchmark messages: marshal and unmarshal time, encoded size,
// allocations, and per compressor the compressed size and the cost of
// compressing and decompressing. It backs both `rpcbench codecs` (Run) and
// `go test -bench` (Cases), so the two measure the same code.
//
// Each case runs Count times through testing.Benchmark, repetitions
// interleaved across cases so that machine drift spreads evenly; reports
// give the median. Marshal appends to a reused buffer. Unmarshal decodes
// into one target that is emptied (benchmsg.Reset) before each decode: the
// figure is the codec's own work and every allocation the decoded message
// owns, without the top-level struct, which a server may pool. (Merging
// codecs such as encoding/json would reuse a target's slices if it were
// not emptied; go_serialization_benchmarks, quoted in ANCHORS.md, reuses
// its target too.)
package bench

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rpcbench/codecs"
	"rpcbench/codecs/benchmsg"
)

// Defaults for Options.Count and Options.BenchTime.
const (
	DefaultCount     = 6 // benchstat wants 6 samples for a confidence interval
	DefaultBenchTime = 200 * time.Millisecond
)

// Options choose what Run measures. Zero values are the defaults.
type Options struct {
	Codecs       []string      // codec names; default: all registered
	Messages     []string      // payload names; default: Small, Medium, Large
	Compressors  []string      // compressor names; default: all registered ("none" is ignored)
	CompressWith string        // codec whose output is compressed; default "proto"
	Count        int           // repetitions per case, median reported; default DefaultCount
	BenchTime    time.Duration // target time of one repetition; default DefaultBenchTime
	Seed         int64         // payload seed; default 1
	Progress     io.Writer     // if set, gets one line per finished repetition
	// Subject, if set, replaces Messages: a message of the user's,
	// measured through every codec that can represent it.
	Subject *Subject
}

func (o *Options) fill() {
	if len(o.Codecs) == 0 {
		o.Codecs = codecs.Names()
	}
	if len(o.Messages) == 0 {
		o.Messages = []string{benchmsg.NameSmall, benchmsg.NameMedium, benchmsg.NameLarge}
	}
	if o.Compressors == nil {
		o.Compressors = codecs.CompressorNames()
	}
	if o.CompressWith == "" {
		o.CompressWith = "proto"
	}
	if o.Count <= 0 {
		o.Count = DefaultCount
	}
	if o.BenchTime <= 0 {
		o.BenchTime = DefaultBenchTime
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// Operations measured.
const (
	OpMarshal    = "marshal"
	OpUnmarshal  = "unmarshal"
	OpCompress   = "compress"
	OpDecompress = "decompress"
	// OpReadInPlace is an InPlaceReader's read of every field without
	// decoding, beside the same codec's Unmarshal into structs.
	OpReadInPlace = "read-in-place"
)

// InPlaceReader is implemented by codecs whose encoding can be read where
// it lies, without decoding into the benchmark types (FlatBuffers).
// ReadInPlace must check data as Unmarshal would and then read every
// field of the message, returning a checksum of what it read so that the
// reads cannot be optimised away. Safe for concurrent use.
type InPlaceReader interface {
	ReadInPlace(data []byte) (uint64, error)
}

// Case is one measurement: a codec or compressor, a message and an
// operation, with the function testing.Benchmark runs.
type Case struct {
	Codec      string // for compressor cases, the codec whose output is compressed
	Compressor string // empty for codec cases
	Message    string
	Op         string
	Encoded    int // encoded (codec) or compressed (compressor) size in bytes
	Input      int // uncompressed size, compressor cases only
	// Form says what value the codec encodes when it is not the message
	// type itself (a Subject's generic form).
	Form  string
	Bench func(b *testing.B)
}

// Name is the case's Go benchmark name below BenchmarkCodec or
// BenchmarkCompress, "codec=proto/msg=Small/op=marshal" style.
func (c *Case) Name() string {
	if c.Compressor != "" {
		return fmt.Sprintf("comp=%s/codec=%s/msg=%s/op=%s", c.Compressor, c.Codec, c.Message, c.Op)
	}
	return fmt.Sprintf("codec=%s/msg=%s/op=%s", c.Codec, c.Message, c.Op)
}

// Skipped is a combination that was not measured and why (raw with
// structured messages, for example).
type Skipped struct {
	Codec   string `json:"codec"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// Cases builds the codec cases then the compressor cases for o. Every
// codec's round trip is checked for equality first; combinations a codec
// cannot encode are returned as skipped rather than failing the run.
func Cases(o Options) ([]Case, []Skipped, error) {
	o.fill()
	if o.Subject != nil {
		return subjectCases(o)
	}
	for _, msg := range o.Messages {
		if _, err := benchmsg.ZeroFunc(msg); err != nil {
			return nil, nil, err
		}
	}
	var cases []Case
	var skipped []Skipped
	for _, name := range o.Codecs {
		c, err := codecs.ByName(name)
		if err != nil {
			return nil, nil, err
		}
		for _, msg := range o.Messages {
			cc, err := codecCases(c, msg, o.Seed)
			var unsupported errUnsupported
			switch {
			case errors.As(err, &unsupported):
				skipped = append(skipped, Skipped{name, msg, unsupported.Error()})
			case err != nil:
				return nil, nil, err
			default:
				cases = append(cases, cc...)
			}
		}
	}
	var comps []codecs.Compressor
	for _, name := range o.Compressors {
		comp, err := codecs.CompressorByName(name)
		if err != nil {
			return nil, nil, err
		}
		if comp != nil {
			comps = append(comps, comp)
		}
	}
	if len(comps) > 0 {
		c, err := codecs.ByName(o.CompressWith)
		if err != nil {
			return nil, nil, err
		}
		for _, msg := range o.Messages {
			v, err := benchmsg.New(msg, o.Seed)
			if err != nil {
				return nil, nil, err
			}
			enc, err := c.Marshal(nil, v)
			if err != nil {
				return nil, nil, fmt.Errorf("bench: %s cannot encode %s for compression: %w", c.Name(), msg, err)
			}
			for _, comp := range comps {
				cc, err := compressCases(comp, c.Name(), msg, enc)
				if err != nil {
					return nil, nil, err
				}
				cases = append(cases, cc...)
			}
		}
	}
	return cases, skipped, nil
}

// errUnsupported marks a codec that cannot encode a payload at all (raw
// with Small); a failed round trip, by contrast, is a bug and fails Cases.
type errUnsupported struct{ error }

func codecCases(c codecs.Codec, msg string, seed int64) ([]Case, error) {
	v, err := benchmsg.New(msg, seed)
	if err != nil {
		return nil, err
	}
	zero, _ := benchmsg.ZeroFunc(msg)
	return valueCases(c, msg, Form{Value: v, Zero: zero, Equal: benchmsg.Equal, Reset: benchmsg.Reset})
}

// valueCases checks f's round trip through c and returns its marshal and
// unmarshal cases.
func valueCases(c codecs.Codec, msg string, f Form) ([]Case, error) {
	v, zero := f.Value, f.Zero
	enc, err := c.Marshal(nil, v)
	if err != nil {
		return nil, errUnsupported{err}
	}
	got := zero()
	if err := c.Unmarshal(enc, got); err != nil {
		return nil, fmt.Errorf("bench: %s round trip of %s: %w", c.Name(), msg, err)
	}
	if !f.Equal(got, v) {
		return nil, fmt.Errorf("bench: %s round trip of %s changed the value", c.Name(), msg)
	}
	size := len(enc)
	marshal := func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2*size) // reused, as a connection's buffer is
		var err error
		for b.Loop() {
			if buf, err = c.Marshal(buf[:0], v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "encoded-B")
	}
	unmarshal := func(b *testing.B) {
		b.ReportAllocs()
		target := zero()
		for b.Loop() {
			f.Reset(target)
			if err := c.Unmarshal(enc, target); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size), "encoded-B")
	}
	cases := []Case{
		{Codec: c.Name(), Message: msg, Op: OpMarshal, Encoded: size, Form: f.Note, Bench: marshal},
		{Codec: c.Name(), Message: msg, Op: OpUnmarshal, Encoded: size, Form: f.Note, Bench: unmarshal},
	}
	if r, ok := c.(InPlaceReader); ok {
		if _, err := r.ReadInPlace(enc); err != nil {
			return nil, fmt.Errorf("bench: %s cannot read its own %s in place: %w", c.Name(), msg, err)
		}
		read := func(b *testing.B) {
			b.ReportAllocs()
			var sum uint64
			for b.Loop() {
				s, err := r.ReadInPlace(enc)
				if err != nil {
					b.Fatal(err)
				}
				sum += s
			}
			readSink.Store(sum)
			b.ReportMetric(float64(size), "encoded-B")
		}
		cases = append(cases, Case{Codec: c.Name(), Message: msg, Op: OpReadInPlace, Encoded: size, Bench: read})
	}
	return cases, nil
}

// readSink keeps in-place reads' checksums alive.
var readSink atomic.Uint64

func compressCases(comp codecs.Compressor, codec, msg string, in []byte) ([]Case, error) {
	z, err := comp.Compress(nil, in)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", comp.Name(), err)
	}
	if out, err := comp.Decompress(nil, z, len(in)); err != nil || !bytes.Equal(out, in) {
		return nil, fmt.Errorf("bench: %s does not round-trip %s/%s: %v", comp.Name(), codec, msg, err)
	}
	metrics := func(b *testing.B) {
		b.ReportMetric(float64(len(z)), "encoded-B")
		b.ReportMetric(float64(len(in)), "input-B")
	}
	compress := func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2*len(z)+64)
		var err error
		for b.Loop() {
			if buf, err = comp.Compress(buf[:0], in); err != nil {
				b.Fatal(err)
			}
		}
		metrics(b)
	}
	decompress := func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, len(in))
		var err error
		for b.Loop() {
			if buf, err = comp.Decompress(buf[:0], z, len(in)); err != nil {
				b.Fatal(err)
			}
		}
		metrics(b)
	}
	base := Case{Codec: codec, Compressor: comp.Name(), Message: msg, Encoded: len(z), Input: len(in)}
	c1, c2 := base, base
	c1.Op, c1.Bench = OpCompress, compress
	c2.Op, c2.Bench = OpDecompress, decompress
	return []Case{c1, c2}, nil
}

var testingInit sync.Once

// setBenchTime points testing.Benchmark at d and returns a function that
// restores the previous setting. testing.Benchmark reads the
// -test.benchtime flag, which exists outside tests only after
// testing.Init; inside a test binary the restore keeps Run from changing
// what later benchmarks of that binary use.
func setBenchTime(d time.Duration) (restore func(), err error) {
	testingInit.Do(testing.Init)
	old := flag.Lookup("test.benchtime").Value.String()
	if err := flag.Set("test.benchtime", d.String()); err != nil {
		return nil, err
	}
	return func() { flag.Set("test.benchtime", old) }, nil
}

// Run measures every case of o and returns the report.
func Run(o Options) (*Report, error) {
	o.fill()
	cases, skipped, err := Cases(o)
	if err != nil {
		return nil, err
	}
	restore, err := setBenchTime(o.BenchTime)
	if err != nil {
		return nil, err
	}
	defer restore()
	samples := make([][]testing.BenchmarkResult, len(cases))
	for rep := range o.Count {
		for i := range cases {
			r := testing.Benchmark(cases[i].Bench)
			if r.N == 0 {
				return nil, fmt.Errorf("bench: %s failed", cases[i].Name())
			}
			samples[i] = append(samples[i], r)
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "[%d/%d] %-48s %12.1f ns/op\n", rep+1, o.Count, cases[i].Name(), nsPerOp(r))
			}
		}
	}
	rep := newReport(o)
	rep.Skipped = skipped
	for i, c := range cases {
		rep.Results = append(rep.Results, summarize(&c, samples[i]))
	}
	return rep, nil
}

func nsPerOp(r testing.BenchmarkResult) float64 { return float64(r.T.Nanoseconds()) / float64(r.N) }

func summarize(c *Case, rs []testing.BenchmarkResult) Result {
	res := Result{Codec: c.Codec, Compressor: c.Compressor, Message: c.Message, Op: c.Op,
		EncodedBytes: c.Encoded, InputBytes: c.Input, Form: c.Form}
	if c.Compressor != "" {
		comp, _ := codecs.CompressorByName(c.Compressor)
		res.Describe = codecs.Describe(comp)
	} else {
		codec, _ := codecs.ByName(c.Codec)
		res.Describe = codecs.Describe(codec)
	}
	var ns, allocs, bytes []float64
	for _, r := range rs {
		ns = append(ns, nsPerOp(r))
		allocs = append(allocs, float64(r.MemAllocs)/float64(r.N))
		bytes = append(bytes, float64(r.MemBytes)/float64(r.N))
		res.Samples = append(res.Samples, Sample{N: r.N, NsPerOp: nsPerOp(r),
			AllocsPerOp: float64(r.MemAllocs) / float64(r.N), BytesPerOp: float64(r.MemBytes) / float64(r.N)})
	}
	res.NsPerOp, res.AllocsPerOp, res.BytesPerOp = median(ns), median(allocs), median(bytes)
	return res
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// ParseList splits a comma-separated flag value, dropping blanks.
func ParseList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
