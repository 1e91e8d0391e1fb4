package runner

import (
	"os/exec"
	"runtime/debug"
	"strings"
)

// buildInfo returns the commit (from git, else the binary's VCS stamp),
// whether the tree had local changes, and the versions of the modules
// built in.
func buildInfo() (commit string, dirty bool, modules map[string]string) {
	commit = "unknown"
	modules = map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path + " " + d.Replace.Version
			}
			modules[d.Path] = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
			dirty = len(strings.TrimSpace(string(st))) > 0
		}
	}
	return commit, dirty, modules
}
