package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"rpcbench/harness/report"
	"rpcbench/harness/results"
)

// reportCmd runs `rpcbench report DIR`: re-render every report of a run
// from its results.json.
func reportCmd(args []string) error {
	fs := newFlagSet("report", "[flags] DIR   (or --check PAGE.html: only check that a page's charts draw, e.g. one written by compare --html)")
	summary := fs.Bool("summary", false, "also print a summary of every cell")
	check := fs.Bool("check", false, "then open report.html in headless Chromium and fail unless every chart rendered")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("report: want one run directory (e.g. results/latest), got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	if *check && strings.HasSuffix(dir, ".html") {
		return checkPage(dir)
	}
	run, err := results.ReadDir(dir)
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
		return checkPage(filepath.Join(dir, "report.html"))
	}
	return nil
}

// checkPage opens an HTML page in headless Chromium and fails unless
// every chart it expects drew.
func checkPage(path string) error {
	expected, rendered, err := report.RenderCheck(context.Background(), path)
	if err != nil {
		return err
	}
	if rendered != expected || expected == 0 {
		return fmt.Errorf("report: %s: %d of %d charts rendered in headless Chromium", path, rendered, expected)
	}
	fmt.Printf("rpcbench: %s renders in headless Chromium: %d of %d charts drawn\n", path, rendered, expected)
	return nil
}
