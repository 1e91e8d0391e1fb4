// Command rpcbench serves and calls rpcbench methods over any transport and
// runs the benchmark harness.
package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// command is one subcommand: a one-line summary and its entry point.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"serve":        {"serve the built-in services on one or more transports", serveCmd},
	"call":         {"call one method and print the reply as JSON", callCmd},
	"codecs":       {"measure every codec and compressor on the benchmark messages", codecsCmd},
	"registry":     {"run a service registry for providers and consumers on this host", registryCmd},
	"bench":        {"run a benchmark matrix (--matrix FILE) or one ad-hoc cell", benchCmd},
	"bench-server": {"the server process 'bench' starts (stats on stdin/stdout)", benchServerCmd},
	"report":       {"re-render a run's reports from its results.json", reportCmd},
	"merge":        {"merge the runs of load processes that measured one server at once", mergeCmd},
	"compare":      {"compare two runs cell by cell (medians, change, Mann-Whitney U)", compareCmd},
	"gate":         {"fail (exit 1) when a run regressed against a baseline", gateCmd},
	"baseline":     {"pool runs of the gate spec into the gate's baseline", baselineCmd},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: rpcbench <command> [flags]\n\ncommands:\n")
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nrun 'rpcbench <command> --help' for a command's flags\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "rpcbench: unknown command %q (valid: %s)\n", os.Args[1], strings.Join(slices.Sorted(maps.Keys(commands)), ", "))
		os.Exit(2)
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
		return usageError("%s: %v (see 'rpcbench %s --help')", fs.Name(), err, fs.Name())
	}
	return nil
}
