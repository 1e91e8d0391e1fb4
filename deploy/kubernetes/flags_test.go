package kubernetes_test

import (
	"fmt"
	"maps"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
)

// pendingFlags are the flags the manifests may pass before the rpcbench
// binary has them, by command, while a command is being added. The checks
// accept exactly these and fail once the binary has one, so the list
// empties as they land. Today every flag the manifests use exists.
var pendingFlags = map[string][]string{}

// helpFlags are the flags a command's --help lists, each with whether it
// takes a value. A nil helpFlags is a command the binary does not have.
type helpFlags map[string]bool

// helpFlagLine is a flag in Go's flag.PrintDefaults ("  -name type") or
// etcd's help ("  --name 'default'").
var helpFlagLine = regexp.MustCompile(`(?m)^ {2,}--?([a-z0-9][a-z0-9.-]*)( +\S.*)?$`)

func parseHelp(out string) helpFlags {
	fl := helpFlags{}
	for _, m := range helpFlagLine.FindAllStringSubmatch(out, -1) {
		fl[m[1]] = m[2] != ""
	}
	return fl
}

// rpcbenchHelp runs "rpcbench SUB --help" and returns the flags it lists,
// or nil if rpcbench has no command SUB.
func rpcbenchHelp(bin, sub string) (helpFlags, error) {
	out, err := exec.Command(bin, sub, "--help").CombinedOutput()
	if strings.HasPrefix(string(out), "rpcbench: unknown command") {
		return nil, nil
	}
	fl := parseHelp(string(out))
	if len(fl) == 0 {
		return nil, fmt.Errorf("rpcbench %s --help listed no flags (%v):\n%s", sub, err, out)
	}
	return fl, nil
}

// checkFlags checks the rpcbench command lines against what the binary
// accepts (help, by command), tolerating pending's flags that it lacks.
func checkFlags(cmds []rpcbenchCommand, help map[string]helpFlags, pending map[string][]string) []error {
	var errs []error
	used := map[string]bool{}
	for _, r := range cmds {
		add := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", r, fmt.Sprintf(format, args...)))
		}
		if r.cl.sub == "" {
			add("args %v do not start with an rpcbench command", r.c.Args)
			continue
		}
		fl := help[r.cl.sub]
		if fl == nil && pending[r.cl.sub] == nil {
			add("rpcbench has no command %q", r.cl.sub)
			continue
		}
		for _, a := range r.cl.stray {
			add("argument %q is not a flag: write a flag's value as --name=value", a)
		}
		for _, f := range r.cl.flags {
			takesValue, known := fl[f.name]
			isPending := slices.Contains(pending[r.cl.sub], f.name)
			used[r.cl.sub+" "+f.name] = true
			switch {
			case known && isPending:
				add("rpcbench %s has --%s now: remove it from pendingFlags", r.cl.sub, f.name)
			case !known && !isPending:
				if fl == nil {
					add("rpcbench %s: unknown flag --%s (not in pendingFlags either)", r.cl.sub, f.name)
				} else {
					add("rpcbench %s: unknown flag --%s (valid: %s)", r.cl.sub, f.name, strings.Join(slices.Sorted(maps.Keys(fl)), ", "))
				}
			case known && takesValue && !f.hasValue:
				add("--%s takes a value: write --%s=VALUE", f.name, f.name)
			}
		}
	}
	for _, sub := range slices.Sorted(maps.Keys(pending)) {
		for _, f := range pending[sub] {
			if !used[sub+" "+f] {
				errs = append(errs, fmt.Errorf("pendingFlags lists rpcbench %s --%s, which no manifest passes", sub, f))
			}
		}
	}
	return errs
}

// isEtcd reports whether image is an etcd image (any registry, any tag).
func isEtcd(image string) bool {
	name, _, _ := strings.Cut(path.Base(image), ":")
	return name == "etcd"
}

// etcdCommands returns the command lines of the etcd containers, the
// binary's path first.
func etcdCommands(b *bundle) map[string][]string {
	out := map[string][]string{}
	for _, w := range b.workloads() {
		for _, c := range containers(w.pod) {
			if isEtcd(c.Image) {
				out[fmt.Sprintf("%s: container %s", w, c.Name)] = append(slices.Clone(c.Command), c.Args...)
			}
		}
	}
	return out
}

// checkEtcdFlags checks the etcd command lines against etcd's --help.
func checkEtcdFlags(b *bundle, fl helpFlags) []error {
	var errs []error
	cmds := etcdCommands(b)
	for _, where := range slices.Sorted(maps.Keys(cmds)) {
		argv := cmds[where]
		if len(argv) == 0 {
			errs = append(errs, fmt.Errorf("%s: no command: the image's entrypoint is not etcd everywhere", where))
			continue
		}
		cl := parseArgs(argv[1:])
		if cl.sub != "" {
			errs = append(errs, fmt.Errorf("%s: argument %q is not a flag", where, cl.sub))
		}
		for _, f := range cl.flags {
			if _, ok := fl[f.name]; !ok {
				errs = append(errs, fmt.Errorf("%s: etcd has no flag --%s", where, f.name))
			}
		}
	}
	return errs
}
