package bench_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rpcbench/codecs/bench"
	_ "rpcbench/codecs/flatbuf"
	_ "rpcbench/codecs/thriftcodec"
)

// BenchmarkCodec measures every codec on Small, Medium and Large:
//
//	go test -bench 'Codec/codec=(binary|proto)/msg=Small' -count 10 ./codecs/bench
func BenchmarkCodec(b *testing.B) {
	runCases(b, bench.Options{Compressors: []string{}}, false)
}

// BenchmarkCompress measures every compressor on the proto encodings.
func BenchmarkCompress(b *testing.B) {
	runCases(b, bench.Options{Codecs: []string{"proto"}}, true)
}

func runCases(b *testing.B, o bench.Options, compressors bool) {
	cases, _, err := bench.Cases(o)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		if (c.Compressor != "") == compressors {
			b.Run(c.Name(), c.Bench)
		}
	}
}

func TestRunFormats(t *testing.T) {
	rep, err := bench.Run(bench.Options{
		Codecs:      []string{"binary", "proto", "json", "raw"},
		Messages:    []string{"Small", "Bytes:64"},
		Compressors: []string{"s2"},
		Count:       2,
		BenchTime:   time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 codecs × 2 messages + raw × Bytes, 2 ops each; s2 × 2 messages × 2 ops.
	if got, want := len(rep.Results), (3*2+1)*2+2*2; got != want {
		t.Fatalf("%d results, want %d", got, want)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Codec != "raw" {
		t.Errorf("skipped = %+v, want raw/Small", rep.Skipped)
	}
	if len(rep.Targets()) != 2 { // binary/proto, proto/json; no fastjson
		t.Errorf("targets = %+v", rep.Targets())
	}

	var table, js, gb bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"unmarshal ns", "binary", "compressed B", "targets"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back bench.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON does not read back: %v", err)
	}
	if err := rep.WriteGoBench(&gb); err != nil {
		t.Fatal(err)
	}
	lines := 0
	for line := range strings.Lines(gb.String()) {
		if strings.HasPrefix(line, "Benchmark") {
			lines++
			if f := strings.Fields(line); len(f) < 10 || f[3] != "ns/op" || f[9] != "encoded-B" {
				t.Errorf("malformed benchmark line %q", line)
			}
		}
	}
	if lines != 2*len(rep.Results) { // one per repetition
		t.Errorf("%d benchmark lines, want %d", lines, 2*len(rep.Results))
	}
	if !strings.Contains(gb.String(), "BenchmarkCodec/codec=binary/msg=Small/op=marshal") {
		t.Errorf("missing expected name in\n%s", gb.String())
	}
}

func TestCasesRejectsUnknownNames(t *testing.T) {
	for _, o := range []bench.Options{
		{Codecs: []string{"nope"}},
		{Messages: []string{"Huge"}},
		{Compressors: []string{"brotli"}},
	} {
		if _, _, err := bench.Cases(o); err == nil {
			t.Errorf("Cases(%+v) succeeded", o)
		}
	}
}

// TestInPlaceRead: a codec that reads in place (flatbuffers) gets a
// read-in-place case beside its unmarshal, labelled as such in the table;
// the others do not.
func TestInPlaceRead(t *testing.T) {
	rep, err := bench.Run(bench.Options{
		Codecs:      []string{"flatbuffers", "thrift-compact"},
		Messages:    []string{"Small"},
		Compressors: []string{},
		Count:       1,
		BenchTime:   time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	for _, r := range rep.Results {
		if r.Op == bench.OpReadInPlace {
			reads = append(reads, r.Codec)
			if r.NsPerOp <= 0 || r.AllocsPerOp != 0 {
				t.Errorf("read-in-place: %.1f ns, %.1f allocs per op; want > 0 ns and no allocations", r.NsPerOp, r.AllocsPerOp)
			}
		}
	}
	if len(reads) != 1 || reads[0] != "flatbuffers" {
		t.Fatalf("read-in-place cases for %v, want flatbuffers only", reads)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"in-place reads", "unmarshal/read", "hessian"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}
