package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"rpcbench/codecs"
	"rpcbench/codecs/bench"
	"rpcbench/codecs/benchmsg"
	"rpcbench/harness/report"
	"rpcbench/protoload"

	"google.golang.org/protobuf/reflect/protoregistry"
)

// userSubject loads a user's message for `rpcbench codecs --proto`.
func userSubject(protos, importPaths, protoset, message, data string) (*bench.Subject, error) {
	if message == "" || (protos == "") == (protoset == "") {
		return nil, fmt.Errorf("your own message needs --message pkg.Msg and either --proto FILE or --protoset FILE")
	}
	var files *protoregistry.Files
	var err error
	if protos != "" {
		var ips []string
		if importPaths != "" {
			ips = strings.Split(importPaths, ",")
		}
		files, err = protoload.Compile(context.Background(), strings.Split(protos, ","), ips)
	} else {
		files, err = protoload.ReadProtoset(protoset)
	}
	if err != nil {
		return nil, err
	}
	md, err := protoload.Message(files, message)
	if err != nil {
		return nil, err
	}
	js, err := messageData(data)
	if err != nil {
		return nil, err
	}
	if len(js) == 0 {
		js = []byte("{}")
	}
	return bench.ProtoSubject(md, js)
}

// messageData reads --data: JSON, or a file named by it (with or without
// a leading @, as ghz's -D and curl's -d @file).
func messageData(data string) ([]byte, error) {
	t := strings.TrimSpace(data)
	if t == "" || strings.HasPrefix(t, "{") {
		return []byte(t), nil
	}
	b, err := os.ReadFile(strings.TrimPrefix(t, "@"))
	if err != nil {
		return nil, fmt.Errorf("--data is neither a JSON object nor a file that can be read: %v", err)
	}
	return b, nil
}

// codecsCmd runs `rpcbench codecs`: every codec on the benchmark messages
// and every compressor on one codec's encodings, printed as a table and
// optionally written as JSON and in the Go benchmark format.
func codecsCmd(args []string) error {
	fs := newFlagSet("codecs", "[flags]")
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
		protos       = fs.String("proto", "", "measure your own message: comma-separated .proto files defining it (with --message and --data)")
		importPaths  = fs.String("import-paths", "", "comma-separated import paths for --proto (default: each file's directory)")
		protoset     = fs.String("protoset", "", "measure your own message from a protoset file instead of --proto")
		message      = fs.String("message", "", "your message's full name, pkg.Msg")
		data         = fs.String("data", "", "your message's value as JSON (protobuf JSON mapping), or a FILE holding it (FILE or @FILE)")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rpcbench codecs [flags]\n\nMeasures marshal/unmarshal time, size and allocations per codec and message,\nand size and cost per compressor.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s", exitCodes)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("codecs: unexpected arguments %q", fs.Args())
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
	if *protos != "" || *protoset != "" || *message != "" {
		sub, err := userSubject(*protos, *importPaths, *protoset, *message, *data)
		if err != nil {
			return usageError("codecs: %v", err)
		}
		opts.Subject, opts.Compressors = sub, []string{}
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
