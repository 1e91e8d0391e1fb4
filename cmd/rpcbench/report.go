package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"rpcbench/harness/report"
	"rpcbench/harness/results"
)

// reportCmd runs `rpcbench report DIR`: re-render every report of a run
// from its results.json.
func reportCmd(args []string) error {
	fs := newFlagSet("report", "[flags] DIR")
	summary := fs.Bool("summary", false, "also print a summary of every cell")
	check := fs.Bool("check", false, "then open report.html in headless Chromium and fail unless every chart rendered")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("report: want one run directory (e.g. results/latest), got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	run, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	if err := report.WriteAll(dir, run); err != nil {
		return err
	}
	if *summary {
		if err := report.Summary(os.Stdout, run); err != nil {
			return err
		}
	}
	fmt.Printf("rpcbench: rendered %s/report.md, report.html, bench.txt and hgrm/\n", dir)
	if *check {
		expected, rendered, err := report.RenderCheck(context.Background(), filepath.Join(dir, "report.html"))
		if err != nil {
			return err
		}
		if rendered != expected || expected == 0 {
			return fmt.Errorf("report: %s/report.html: %d of %d charts rendered in headless Chromium", dir, rendered, expected)
		}
		fmt.Printf("rpcbench: report.html renders in headless Chromium: %d of %d charts drawn\n", rendered, expected)
	}
	return nil
}
