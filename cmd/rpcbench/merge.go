package main

import (
	"fmt"
	"os"
	"path/filepath"

	"rpcbench/harness/loadmerge"
	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/internal/plural"
)

// mergeCmd runs `rpcbench merge --out DIR RUN_DIR...`: one run from the
// runs of load processes that measured one server at once.
func mergeCmd(args []string) error {
	fs := newFlagSet("merge", "--out DIR RUN_DIR RUN_DIR...")
	out := fs.String("out", "", "write the merged run and its reports into `DIR`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() < 2 {
		return usageError("merge: want --out DIR and the run directories of two or more load processes ('bench --server ADDR --load-id N')")
	}
	var runs []*results.Run
	for _, dir := range fs.Args() {
		run, err := results.ReadDir(dir)
		if err != nil {
			return err
		}
		runs = append(runs, run)
	}
	run, err := loadmerge.Merge(runs, fs.Args())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := run.Write(filepath.Join(*out, "results.json")); err != nil {
		return err
	}
	if err := report.WriteAll(*out, run); err != nil {
		return err
	}
	fmt.Printf("rpcbench: merged %s, %s; results in %s (report.md, report.html, bench.txt, hgrm/, results.json)\n", plural.Count(len(runs), "load process"), plural.Count(countRan(run), "cell"), *out)
	return nil
}
