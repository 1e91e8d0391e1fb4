package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"rpcbench/codecs"
	"rpcbench/codecs/bench"
	"rpcbench/codecs/benchmsg"
	"rpcbench/harness/report"
)

// codecsCmd runs `rpcbench codecs`: every codec on the benchmark messages
// and every compressor on one codec's encodings, printed as a table and
// optionally written as JSON and in the Go benchmark format.
func codecsCmd(args []string) error {
	fs := flag.NewFlagSet("codecs", flag.ContinueOnError)
	var (
		codecList    = fs.String("codecs", "", "comma-separated codecs (default all: "+strings.Join(codecs.Names(), ",")+")")
		messageList  = fs.String("messages", "Small,Medium,Large", "comma-separated payloads: "+strings.Join(benchmsg.Names(), ", "))
		compList     = fs.String("compressors", "", "comma-separated compressors, or none (default all: "+strings.Join(codecs.CompressorNames()[1:], ",")+")")
		compressWith = fs.String("compress-codec", "proto", "codec whose encodings the compressors are measured on")
		count        = fs.Int("count", bench.DefaultCount, "repetitions per case; the median is reported")
		benchTime    = fs.Duration("benchtime", bench.DefaultBenchTime, "target duration of one repetition")
		seed         = fs.Int64("seed", 1, "payload generator seed")
		jsonOut      = fs.String("json", "", "also write the report as JSON to `file`")
		benchOut     = fs.String("bench", "", "also write Go benchmark format (for benchstat) to `file`")
		quiet        = fs.Bool("quiet", false, "no progress lines on stderr")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rpcbench codecs [flags]\n\nMeasures marshal/unmarshal time, size and allocations per codec and message,\nand size and cost per compressor.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("codecs: unexpected arguments %q", fs.Args())
	}
	opts := bench.Options{
		Codecs:       bench.ParseList(*codecList),
		Messages:     bench.ParseList(*messageList),
		Compressors:  bench.ParseList(*compList),
		CompressWith: *compressWith,
		Count:        *count,
		BenchTime:    *benchTime,
		Seed:         *seed,
	}
	if *compList == "" {
		opts.Compressors = nil // all
	} else if *compList == "none" {
		opts.Compressors = []string{}
	}
	if !*quiet {
		opts.Progress = os.Stderr
	}
	rep, err := bench.Run(opts)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(os.Stdout); err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := report.WriteFile(*jsonOut, rep.WriteJSON); err != nil {
			return err
		}
	}
	if *benchOut != "" {
		if err := report.WriteFile(*benchOut, rep.WriteGoBench); err != nil {
			return err
		}
	}
	return nil
}
