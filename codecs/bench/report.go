package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// SchemaVersion is bumped whenever Report's JSON changes incompatibly.
const SchemaVersion = 1

// Report is one run of Run: the settings that affect the numbers, and one
// Result per case.
type Report struct {
	Schema       int       `json:"schema"`
	Time         time.Time `json:"time"`
	GoVersion    string    `json:"go_version"`
	GOOS         string    `json:"goos"`
	GOARCH       string    `json:"goarch"`
	CPU          string    `json:"cpu,omitempty"`
	GOMAXPROCS   int       `json:"gomaxprocs"`
	Count        int       `json:"count"`
	BenchTime    string    `json:"benchtime"`
	Seed         int64     `json:"seed"`
	CompressWith string    `json:"compress_with"`
	Results      []Result  `json:"results"`
	Skipped      []Skipped `json:"skipped,omitempty"`
}

// Result is the median of one case's repetitions, plus every repetition.
type Result struct {
	Codec        string   `json:"codec"`
	Compressor   string   `json:"compressor,omitempty"`
	Describe     string   `json:"describe,omitempty"` // library, version, mode
	Message      string   `json:"message"`
	Op           string   `json:"op"`
	NsPerOp      float64  `json:"ns_per_op"`
	AllocsPerOp  float64  `json:"allocs_per_op"`
	BytesPerOp   float64  `json:"bytes_per_op"`  // bytes allocated
	EncodedBytes int      `json:"encoded_bytes"` // compressed size for compressors
	InputBytes   int      `json:"input_bytes,omitempty"`
	Form         string   `json:"form,omitempty"` // what a user's message was encoded as
	Samples      []Sample `json:"samples"`
}

// Sample is one repetition.
type Sample struct {
	N           int     `json:"n"`
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
}

func newReport(o Options) *Report {
	return &Report{Schema: SchemaVersion, Time: time.Now().UTC(), GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: cpuModel(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Count: o.Count, BenchTime: o.BenchTime.String(), Seed: o.Seed, CompressWith: o.CompressWith}
}

// cpuModel reads the model name on Linux; elsewhere it is left empty.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r *Report) find(codec, comp, msg, op string) *Result {
	for i := range r.Results {
		x := &r.Results[i]
		if x.Codec == codec && x.Compressor == comp && x.Message == msg && x.Op == op {
			return x
		}
	}
	return nil
}

// RoundTripNs is a codec's marshal plus unmarshal median for msg, or 0.
func (r *Report) RoundTripNs(codec, msg string) float64 {
	m, u := r.find(codec, "", msg, OpMarshal), r.find(codec, "", msg, OpUnmarshal)
	if m == nil || u == nil {
		return 0
	}
	return m.NsPerOp + u.NsPerOp
}

// Ratio is one target of issue 3: how many times faster Faster's
// marshal+unmarshal is than Slower's on Message, against the Want floor.
type Ratio struct {
	Faster, Slower, Message string
	Want, Got               float64
}

// Targets returns the ratios the project promises for Small, for the
// codecs present in the report.
func (r *Report) Targets() []Ratio {
	var out []Ratio
	for _, t := range []Ratio{
		{Faster: "binary", Slower: "proto", Want: 3},
		{Faster: "proto", Slower: "json", Want: 4},
		{Faster: "fastjson", Slower: "json", Want: 2},
	} {
		t.Message = "Small"
		f, s := r.RoundTripNs(t.Faster, t.Message), r.RoundTripNs(t.Slower, t.Message)
		if f > 0 && s > 0 {
			t.Got = s / f
			out = append(out, t)
		}
	}
	return out
}

// notMeasured names serializations that users weigh and rpcbench lacks,
// and why.
var notMeasured = []string{
	"hessian: no Go library is served by the module proxy here (github.com/apache/dubbo-go-hessian2 is refused), and a hand-written one would measure rpcbench, not Hessian",
}

// WriteTable writes the human-readable tables.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s/%s GOMAXPROCS=%d, %s; median of %d × %s\n\n",
		r.GoVersion, r.GOOS, r.GOARCH, r.GOMAXPROCS, r.CPU, r.Count, r.BenchTime)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "codec\tmsg\tsize B\tmarshal ns\tallocs\talloc B\tunmarshal ns\tallocs\talloc B\tm+u ns\tvs json\t")
	for _, m := range r.Results {
		if m.Compressor != "" || m.Op != OpMarshal {
			continue
		}
		u := r.find(m.Codec, "", m.Message, OpUnmarshal)
		if u == nil {
			continue
		}
		vs := "-"
		if j := r.RoundTripNs("json", m.Message); j > 0 {
			vs = fmt.Sprintf("%.1fx", j/(m.NsPerOp+u.NsPerOp))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t\n", m.Codec, m.Message, m.EncodedBytes,
			m.NsPerOp, m.AllocsPerOp, m.BytesPerOp, u.NsPerOp, u.AllocsPerOp, u.BytesPerOp, m.NsPerOp+u.NsPerOp, vs)
	}
	tw.Flush()
	if reads := r.inPlaceReads(); len(reads) > 0 {
		fmt.Fprintln(bw, "\nin-place reads: every field read from the encoded bytes (verified first), no structs filled:")
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "codec\tmsg\tread ns\tallocs\tunmarshal ns\tunmarshal/read\t")
		for _, x := range reads {
			u := r.find(x.Codec, "", x.Message, OpUnmarshal)
			if u == nil {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.1fx\t\n", x.Codec, x.Message, x.NsPerOp, x.AllocsPerOp,
				u.NsPerOp, u.NsPerOp/max(x.NsPerOp, 1e-9))
		}
		tw.Flush()
	}
	if r.hasCompressors() {
		fmt.Fprintf(bw, "\ncompressors, on %s encodings:\n", r.CompressWith)
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "comp\tmsg\tinput B\tcompressed B\tratio\tcompress ns\tallocs\tdecompress ns\tallocs\t")
		for _, c := range r.Results {
			d := r.find(c.Codec, c.Compressor, c.Message, OpDecompress)
			if c.Compressor == "" || c.Op != OpCompress || d == nil {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", c.Compressor, c.Message, c.InputBytes,
				c.EncodedBytes, float64(c.InputBytes)/float64(max(c.EncodedBytes, 1)), c.NsPerOp, c.AllocsPerOp, d.NsPerOp, d.AllocsPerOp)
		}
		tw.Flush()
	}
	if ts := r.Targets(); len(ts) > 0 {
		fmt.Fprintln(bw, "\ntargets (marshal+unmarshal, Small):")
		for _, t := range ts {
			verdict := "ok"
			if t.Got < t.Want {
				verdict = "MISSED"
			}
			fmt.Fprintf(bw, "  %-8s vs %-5s %5.1fx faster (want >= %.0fx) %s\n", t.Faster, t.Slower, t.Got, t.Want, verdict)
		}
	}
	forms := false
	for _, m := range r.Results {
		if m.Form != "" && m.Op == OpMarshal {
			if !forms {
				fmt.Fprintln(bw, "\nwhat each codec encodes:")
				forms = true
			}
			fmt.Fprintf(bw, "  %-9s %s\n", m.Codec, m.Form)
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(bw, "skipped %s/%s: %s\n", s.Codec, s.Message, s.Reason)
	}
	fmt.Fprintln(bw, "\nnot measured:")
	for _, n := range notMeasured {
		fmt.Fprintf(bw, "  %s\n", n)
	}
	fmt.Fprintln(bw, "\nlibraries:")
	seen := map[string]bool{}
	for _, x := range r.Results {
		name := x.Codec
		if x.Compressor != "" {
			name = x.Compressor
		}
		if !seen[name] && x.Describe != "" {
			seen[name] = true
			fmt.Fprintf(bw, "  %-9s %s\n", name, x.Describe)
		}
	}
	return bw.Flush()
}

func (r *Report) inPlaceReads() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Op == OpReadInPlace {
			out = append(out, x)
		}
	}
	return out
}

func (r *Report) hasCompressors() bool {
	for _, x := range r.Results {
		if x.Compressor != "" {
			return true
		}
	}
	return false
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteGoBench writes every repetition in the Go benchmark format, which
// benchstat reads: BenchmarkCodec/... and BenchmarkCompress/... lines.
func (r *Report) WriteGoBench(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "goos: %s\ngoarch: %s\npkg: rpcbench/codecs/bench\n", r.GOOS, r.GOARCH)
	if r.CPU != "" {
		fmt.Fprintf(bw, "cpu: %s\n", r.CPU)
	}
	suffix := ""
	if r.GOMAXPROCS > 1 {
		suffix = fmt.Sprintf("-%d", r.GOMAXPROCS)
	}
	for _, x := range r.Results {
		c := Case{Codec: x.Codec, Compressor: x.Compressor, Message: x.Message, Op: x.Op}
		top := "BenchmarkCodec/"
		if x.Compressor != "" {
			top = "BenchmarkCompress/"
		}
		for _, s := range x.Samples {
			fmt.Fprintf(bw, "%s%s%s\t%d\t%.1f ns/op\t%.0f B/op\t%.0f allocs/op\t%d encoded-B", top, c.Name(), suffix,
				s.N, s.NsPerOp, s.BytesPerOp, s.AllocsPerOp, x.EncodedBytes)
			if x.InputBytes > 0 {
				fmt.Fprintf(bw, "\t%d input-B", x.InputBytes)
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}
