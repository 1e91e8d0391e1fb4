package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the Makefile's -ldflags (-X main.version=... -X main.commit=...
// -X main.buildDate=...); otherwise read from the build information the Go
// toolchain records (module version, VCS revision and time).
var (
	version   string
	commit    string
	buildDate string
)

// versionInfo returns what the binary knows about its build.
func versionInfo() (ver, rev, date, goVersion string) {
	ver, rev, date = version, commit, buildDate
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if rev == "" && vcs["vcs.revision"] != "" {
			rev = vcs["vcs.revision"]
			if vcs["vcs.modified"] == "true" {
				rev += " (modified)"
			}
		}
		if date == "" {
			date = vcs["vcs.time"]
		}
	}
	if ver == "" {
		ver = "devel"
	}
	if rev == "" {
		rev = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return ver, rev, date, runtime.Version()
}

// versionCmd runs `rpcbench version` (and `rpcbench --version`).
func versionCmd(args []string) error {
	fs := newFlagSet("version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("version: unexpected arguments %q", fs.Args())
	}
	ver, rev, date, gov := versionInfo()
	fmt.Printf("rpcbench %s\ncommit   %s\nbuilt    %s\ngo       %s\n", ver, rev, date, gov)
	return nil
}
