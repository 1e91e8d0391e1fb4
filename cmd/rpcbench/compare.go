package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"rpcbench/harness/compare"
	_ "rpcbench/harness/compare/echoref" // tcp-echo, the gate's reference transport
	"rpcbench/harness/report"
	"rpcbench/harness/results"
	"rpcbench/harness/runner"
	"rpcbench/internal/plural"
)

// compareCmd runs `rpcbench compare OLD NEW`.
func compareCmd(args []string) error {
	fs := newFlagSet("compare", "[flags] OLD NEW   (run directories or results.json files)")
	format := fs.String("format", "text", "output: text (terminal tables) or markdown")
	metrics := fs.String("metrics", "all", "comma-separated `metrics` to show (all: "+joinNames()+")")
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	reference := fs.String("reference", "", "show timing metrics as ratios to the reference cells whose keys contain `FRAG` (auto: the old run's reference transport)")
	htmlOut := fs.String("html", "", "also write the comparison as a self-contained page to `FILE`: per cell old and new percentile curves and each repetition's throughput, significant changes marked")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("compare: want two runs, OLD and NEW (got %d arguments)", len(pos))
	}
	ms, err := compare.ParseMetrics(*metrics)
	if err != nil {
		return usageError("compare: --metrics: %v", err)
	}
	if *format != "text" && *format != "markdown" {
		return usageError("compare: --format %q: want text or markdown", *format)
	}
	if !(*alpha > 0 && *alpha < 1) {
		return usageError("compare: --alpha must be between 0 and 1")
	}
	oldRun, err := compare.Load(pos[0])
	if err != nil {
		return err
	}
	newRun, err := compare.Load(pos[1])
	if err != nil {
		return err
	}
	ref := *reference
	if ref == "auto" {
		if ref, err = compare.DefaultReference(oldRun); err != nil {
			return err
		}
	}
	cmp, err := compare.Compare(oldRun, newRun, compare.Options{Metrics: ms, Alpha: *alpha, Reference: ref})
	if err != nil {
		return err
	}
	if *htmlOut != "" {
		if err := report.WriteFile(*htmlOut, func(w io.Writer) error { return report.CompareHTML(w, cmp, pos[0], pos[1]) }); err != nil {
			return err
		}
	}
	if *format == "markdown" {
		return cmp.WriteMarkdown(os.Stdout, pos[0], pos[1])
	}
	return cmp.WriteText(os.Stdout, pos[0], pos[1])
}

// gateCmd runs `rpcbench gate --baseline B NEW`: exit status 1 when NEW
// regressed against B.
func gateCmd(args []string) error {
	fs := newFlagSet("gate", "--baseline RUN [flags] NEW   (exit status 1 on a regression)")
	baseline := fs.String("baseline", "", "the baseline run: a run directory or results.json (required; the project's is results/baseline)")
	reference := fs.String("reference", "", "judge timing metrics as ratios to the cells whose keys contain `FRAG` (default: every cell of the baseline reference cell's transport)")
	thresholds := fs.String("threshold", "", "override limits, a comma-separated `LIST` of NAME=LIMIT: a minimum effect for timing metrics (p99=25%), a tolerance for deterministic ones (server-allocs=0.1+2%), or off; see --help-limits")
	helpLimits := fs.Bool("help-limits", false, "print the metrics and their default limits, and exit")
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	metrics := fs.String("metrics", "all", "comma-separated `metrics` to judge")
	markdown := fs.String("markdown", "", "also write a Markdown summary (for a pull-request comment or $GITHUB_STEP_SUMMARY) to `FILE`")
	format := fs.String("format", "text", "stdout: text or markdown")
	all := fs.Bool("all", false, "list every check, not only the regressions")
	confirm := fs.Int("confirm", 1, "re-run cells with timing regressions this many times, beside their references; a timing regression fails the gate only if every re-run reproduces it (0: no re-runs)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *helpLimits {
		printLimits()
		return nil
	}
	if *baseline == "" || len(pos) != 1 {
		return usageError("gate: want --baseline RUN and one NEW run (see 'rpcbench gate --help')")
	}
	limits, err := compare.ParseLimits(*thresholds)
	if err != nil {
		return usageError("gate: --threshold: %v", err)
	}
	ms, err := compare.ParseMetrics(*metrics)
	if err != nil {
		return usageError("gate: --metrics: %v", err)
	}
	if *format != "text" && *format != "markdown" {
		return usageError("gate: --format %q: want text or markdown", *format)
	}
	if !(*alpha > 0 && *alpha < 1) {
		return usageError("gate: --alpha must be between 0 and 1")
	}
	base, err := compare.Load(*baseline)
	if err != nil {
		return fmt.Errorf("gate: baseline: %w", err)
	}
	newRun, err := compare.Load(pos[0])
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	g, err := compare.Gate(base, newRun, compare.GateOptions{Alpha: *alpha, Reference: *reference, Limits: limits, Metrics: ms})
	if err != nil {
		return err
	}
	for i := 1; i <= *confirm && len(g.ToConfirm()) > 0; i++ {
		if err := confirmRun(g, newRun, pos[0], i); err != nil {
			return err
		}
	}
	if *format == "markdown" {
		err = g.WriteMarkdown(os.Stdout, *baseline, pos[0])
	} else {
		err = g.WriteText(os.Stdout, *baseline, pos[0], *all)
	}
	if err != nil {
		return err
	}
	if *markdown != "" {
		var b bytes.Buffer
		g.WriteMarkdown(&b, *baseline, pos[0])
		if err := os.WriteFile(*markdown, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if g.Failed() {
		return exitError{1, fmt.Errorf("gate: %s", g.Headline())}
	}
	return nil
}

// confirmRun re-runs the cells with timing regressions beside their
// references, with the new run's settings, and judges them again. The
// re-run's results go to NEW/confirm-N/results.json when NEW is a
// directory.
func confirmRun(g *compare.GateResult, newRun *results.Run, newPath string, n int) error {
	keys := g.ToConfirm()
	sp, err := compare.ConfirmSpec(newRun, keys)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rpcbench gate: cannot re-run to confirm: %v\n", err)
		return nil
	}
	fmt.Fprintf(os.Stderr, "rpcbench gate: timing regressions in %s; re-running them beside their references to confirm (%s × %s)\n",
		plural.Count(len(keys)/2, "cell"), plural.Count(len(keys), "cell"), plural.Count(sp.Repetitions, "rep"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run, _, err := runner.Run(ctx, runner.Options{Spec: sp, NoWrite: true, Log: os.Stderr, Command: os.Args})
	if err != nil {
		return fmt.Errorf("gate: confirmation run: %w", err)
	}
	if st, err := os.Stat(newPath); err == nil && st.IsDir() {
		dir := filepath.Join(newPath, fmt.Sprintf("confirm-%d", n))
		if err := os.MkdirAll(dir, 0o755); err == nil {
			run.Write(filepath.Join(dir, "results.json"))
		}
	}
	g.Confirm(run)
	return nil
}

func printLimits() {
	fmt.Println("metric              kind           better  default limit")
	for _, m := range compare.Metrics {
		better := "lower"
		if m.Better == compare.HigherIsBetter {
			better = "higher"
		}
		fmt.Printf("%-19s %-14s %-7s %s\n", m.Name, m.Kind, better, compare.DefaultLimits[m.Name])
	}
	fmt.Println("\ntiming: a regression is a significant change (p < alpha) of the median ratio to the reference of at least the limit;")
	fmt.Println("deterministic: a regression is a change of the median beyond ABS+REL% of the baseline median.")
}

func joinNames() string {
	s := ""
	for i, n := range compare.MetricNames() {
		if i > 0 {
			s += ","
		}
		s += n
	}
	return s
}

// baselineCmd runs `rpcbench baseline RUN...`: the runs' repetitions
// pooled, histograms stripped, written as the gate's baseline.
func baselineCmd(args []string) error {
	fs := newFlagSet("baseline", "[--out DIR] RUN...   (runs of the gate spec, pooled into one baseline)")
	out := fs.String("out", "results/baseline", "write the baseline's results.json into `DIR`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("baseline: want one or more runs of the gate spec")
	}
	var runs []*results.Run
	for _, p := range pos {
		r, err := compare.Load(p)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	pooled, err := compare.Pool(runs)
	if err != nil {
		return err
	}
	compare.StripHistograms(pooled)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*out, "results.json")
	if err := pooled.Write(path); err != nil {
		return err
	}
	st, _ := os.Stat(path)
	fmt.Printf("rpcbench: baseline of %s from %s written to %s (%d KB)\n", plural.Count(len(pooled.Cells), "cell"), plural.Count(len(runs), "run"), path, st.Size()>>10)
	return nil
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
