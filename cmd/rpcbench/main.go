// Command rpcbench serves and calls rpcbench methods over any transport and
// runs the benchmark harness.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"rpcbench/internal/sysmon"
)

// command is one subcommand: a one-line summary and its entry point.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"serve":          {"serve the built-in services on one or more transports", serveCmd},
	"call":           {"call one method and print the reply as JSON", callCmd},
	"codecs":         {"measure every codec and compressor on the benchmark messages", codecsCmd},
	"registry":       {"run a service registry for providers and consumers on this host", registryCmd},
	"bench":          {"run a benchmark matrix (--matrix FILE) or one ad-hoc cell", benchCmd},
	"bench-server":   {"the server process 'bench' starts (stats on stdin/stdout)", benchServerCmd},
	"report":         {"re-render a run's reports from its results.json", reportCmd},
	"worker":         {"generate a share of each cell's load for 'bench --workers' (joins through etcd)", workerCmd},
	"merge":          {"merge the runs of load processes that measured one server at once", mergeCmd},
	"compare":        {"compare two runs cell by cell (medians, change, Mann-Whitney U)", compareCmd},
	"gate":           {"fail (exit 1) when a run regressed against a baseline", gateCmd},
	"baseline":       {"pool runs of the gate spec into the gate's baseline", baselineCmd},
	"version":        {"print the version, commit, build date and Go version", versionCmd},
	"greeter-server": {"serve the example service of external targets over gRPC and HTTP/JSON", greeterCmd},
}

// exitCodes is the exit status convention of every command.
const exitCodes = `exit status:
  0  success
  1  failure: a call, a run or a check failed, or the gate found a regression
  2  usage: an unknown command or flag, a bad argument or a bad spec, reported before anything runs
`

// usage prints the command table: to stdout when asked for, to stderr
// (with exit status 2) when the command line was wrong.
func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: rpcbench <command> [flags]\n       rpcbench --version\n\ncommands:\n")
	names := slices.Sorted(maps.Keys(commands))
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nrun 'rpcbench <command> --help' for a command's flags\n\n%s", exitCodes)
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return
	case "-version", "--version", "-v":
		os.Args[1] = "version"
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "rpcbench: unknown command %q (valid: %s)\n", os.Args[1], strings.Join(slices.Sorted(maps.Keys(commands)), ", "))
		os.Exit(2)
	}
	if os.Args[1] == "bench" || os.Args[1] == "worker" {
		// A load process; without the setting it still runs, and its
		// manifest says so.
		sysmon.Keep()
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		var ee exitError
		if errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "rpcbench:", ee.err)
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "rpcbench:", err)
		os.Exit(1)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

// usageError is a bad flag or argument: exit status 2.
func usageError(format string, args ...any) error {
	return exitError{2, fmt.Errorf(format, args...)}
}

// newFlagSet returns a flag set that reports errors as usage errors in one
// line instead of printing the whole usage.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rpcbench %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s", exitCodes)
	}
	return fs
}

// parseFlags parses args, turning flag errors into one-line usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	var buf strings.Builder
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return flag.ErrHelp
	}
	fs.SetOutput(os.Stderr)
	if err != nil {
		return usageError("%s: %v (see 'rpcbench %s --help')", fs.Name(), flagError(fs, err), fs.Name())
	}
	return nil
}

// flagError rewrites the flag package's "flag provided but not defined"
// into the closest valid flag and the list of all of them.
func flagError(fs *flag.FlagSet, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	best, bestD := "", 4 // suggest only near misses
	for _, n := range names {
		if d := editDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	hint := ""
	if best != "" {
		hint = fmt.Sprintf("did you mean --%s? ", best)
	}
	return fmt.Errorf("unknown flag --%s (%svalid: --%s)", name, hint, strings.Join(names, ", --"))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
