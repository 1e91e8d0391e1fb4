package kubernetes_test

import (
	"context"
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rpcbench/internal/testbin"
	"rpcbench/internal/testenv"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// load decodes the directory's manifests and fails the test on any error.
func load(t *testing.T) *bundle {
	t.Helper()
	files, err := readManifests(".")
	if err != nil {
		t.Fatal(err)
	}
	b, errs := decode(files)
	for _, err := range errs {
		t.Error(err)
	}
	if b == nil || t.Failed() {
		t.FailNow()
	}
	return b
}

func TestManifestsDecodeStrictly(t *testing.T) {
	b := load(t)
	// Every part the deployment needs is there.
	for _, want := range []string{
		"v1/Namespace", "v1/Secret", "v1/ConfigMap", "v1/PersistentVolumeClaim",
		"apps/v1/Deployment", "apps/v1/StatefulSet", "batch/v1/Job", "v1/Service",
	} {
		if !slices.ContainsFunc(b.objects, func(o object) bool { return o.kind == want }) {
			t.Errorf("no %s among the manifests", want)
		}
	}
}

func TestManifestsAgree(t *testing.T) {
	b := load(t)
	for _, err := range append(checkObjects(b), checkWiring(b)...) {
		t.Error(err)
	}
	// The server and the workers are what the measurement depends on:
	// they must be there to be checked.
	subs := map[string]int{}
	for _, r := range b.rpcbenchCommands() {
		subs[r.cl.sub]++
	}
	for _, sub := range []string{"serve", "worker", "bench"} {
		if subs[sub] != 1 {
			t.Errorf("%d containers run rpcbench %s, want 1", subs[sub], sub)
		}
	}
}

// help holds the flags of the rpcbench commands, read once per test binary.
var help struct {
	sync.Mutex
	flags map[string]helpFlags
}

func rpcbenchFlags(t *testing.T, subs ...string) map[string]helpFlags {
	t.Helper()
	bin := testbin.Rpcbench(t)
	help.Lock()
	defer help.Unlock()
	if help.flags == nil {
		help.flags = map[string]helpFlags{}
	}
	for _, sub := range subs {
		if _, ok := help.flags[sub]; ok {
			continue
		}
		fl, err := rpcbenchHelp(bin, sub)
		if err != nil {
			t.Fatal(err)
		}
		help.flags[sub] = fl
	}
	return help.flags
}

func commandsOf(b *bundle) []string {
	var subs []string
	for _, r := range b.rpcbenchCommands() {
		if !slices.Contains(subs, r.cl.sub) {
			subs = append(subs, r.cl.sub)
		}
	}
	return subs
}

func TestRpcbenchFlagsExist(t *testing.T) {
	b := load(t)
	for _, err := range checkFlags(b.rpcbenchCommands(), rpcbenchFlags(t, commandsOf(b)...), pendingFlags) {
		t.Error(err)
	}
}

func TestEtcdFlagsExist(t *testing.T) {
	b := load(t)
	bin, err := exec.LookPath("etcd")
	if err != nil {
		testenv.Missing(t, "etcd", "apt-get install etcd-server (scripts/setup.sh does)")
	}
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	fl := parseHelp(string(out))
	if len(fl) < 20 {
		t.Fatalf("etcd --help listed %d flags:\n%s", len(fl), out)
	}
	if len(etcdCommands(b)) == 0 {
		t.Fatal("no etcd container among the manifests")
	}
	for _, err := range checkEtcdFlags(b, fl) {
		t.Error(err)
	}
}

// The spec the coordinator runs is one rpcbench accepts.
func TestSpecParses(t *testing.T) {
	b := load(t)
	bin := testbin.Rpcbench(t)
	for _, r := range b.rpcbenchCommands() {
		m, ok := r.cl.value("matrix")
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "bench", "--dry-run", "--matrix", strings.TrimPrefix(m, "/etc/rpcbench/")).CombinedOutput()
		if err != nil {
			t.Errorf("rpcbench bench --dry-run --matrix %s: %v\n%s", m, err, out)
		}
	}
}

// A mistake in the manifests is caught: each case changes one file and
// must be rejected with a message saying so.
func TestChecksCatchMistakes(t *testing.T) {
	files, err := readManifests(".")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, old, new string
		want                 string // in one of the errors
		every                bool   // replace every old, not the first
		flags                bool   // needs the binary's flags
	}{
		{name: "unknown field", file: "server.yaml", old: "  replicas: 1\n", new: "  replicas: 1\n  replica: 1\n", want: `unknown field "spec.replica"`},
		{name: "misspelt nested field", file: "workers.yaml", old: "podManagementPolicy:", new: "podManagementPolicies:", want: "unknown field"},
		{name: "wrong case", file: "server.yaml", old: "containerPort: 7000", new: "containerport: 7000", want: "unknown field"},
		{name: "duplicate key", file: "etcd.yaml", old: "  replicas: 1\n", new: "  replicas: 1\n  replicas: 2\n", want: `key "replicas" already set`},
		{name: "wrong apiVersion", file: "server.yaml", old: "apiVersion: apps/v1", new: "apiVersion: apps/v1beta2", want: "unknown kind"},
		{name: "unlisted file", file: "kustomization.yaml", old: "  - results.yaml\n", new: "", want: "results.yaml is not listed in kustomization.yaml"},
		{name: "missing file", file: "kustomization.yaml", old: "  - results.yaml\n", new: "  - results.yaml\n  - extra.yaml\n", want: "resource extra.yaml: no such file"},
		{name: "service selects nothing", file: "server.yaml", old: "  selector:\n    app.kubernetes.io/name: rpcbench\n    app.kubernetes.io/component: server\n  ports:", new: "  selector:\n    app.kubernetes.io/name: rpcbench\n    app.kubernetes.io/component: sever\n  ports:", want: "matches no pod"},
		{name: "selector misses template", file: "workers.yaml", old: "  selector:\n    matchLabels:\n      app.kubernetes.io/name: rpcbench\n      app.kubernetes.io/component: worker", new: "  selector:\n    matchLabels:\n      app.kubernetes.io/name: rpcbench\n      app.kubernetes.io/component: workers", want: "does not match its pod template"},
		{name: "target port", file: "server.yaml", old: "targetPort: rpc", new: "targetPort: grpc", want: "target port grpc"},
		{name: "non-integer CPU", file: "workers.yaml", old: `cpu: "2"`, new: "cpu: 1500m", want: "not whole CPUs", every: true},
		{name: "requests differ from limits", file: "server.yaml", old: "requests:\n              cpu: \"2\"", new: "requests:\n              cpu: \"1\"", want: "not Guaranteed"},
		{name: "no memory limit", file: "etcd.yaml", old: "            limits:\n              cpu: \"1\"\n              memory: 512Mi", new: "            limits:\n              cpu: \"1\"", want: "memory requests and limits must both be set"},
		{name: "floating image tag", file: "etcd.yaml", old: "etcd:v3.7.3", new: "etcd:latest", want: "no fixed tag"},
		{name: "secret key", file: "coordinator.yaml", old: "key: token", new: "key: tokn", want: `has no key "tokn"`},
		{name: "undefined variable", file: "workers.yaml", old: "- name: POD_NAME", new: "- name: POD", want: "refers to $(POD_NAME)"},
		{name: "expect differs from replicas", file: "coordinator.yaml", old: "--expect=3", new: "--expect=2", want: "the workers have 3 replicas"},
		{name: "workers at another prefix", file: "workers.yaml", old: "etcd://rpcbench-etcd:2379/rpcbench", new: "etcd://rpcbench-etcd:2379/other", want: "publishes at --workers="},
		{name: "no such service", file: "coordinator.yaml", old: "--server=rpcbench-server:7000", new: "--server=rpcbench-srv:7000", want: "no Service rpcbench-srv"},
		{name: "wrong port", file: "coordinator.yaml", old: "--server=rpcbench-server:7000", new: "--server=rpcbench-server:7001", want: "has no port 7001"},
		{name: "waits for a port not served", file: "coordinator.yaml", old: "nc -z rpcbench-server 7000", new: "nc -z rpcbench-server 7001", want: "Service rpcbench-server has no port 7001"},
		{name: "advertises a name not served", file: "etcd.yaml", old: "--advertise-client-urls=http://rpcbench-etcd:2379", new: "--advertise-client-urls=http://etcd:2379", want: "no Service etcd here"},
		{name: "spec not mounted", file: "coordinator.yaml", old: "--matrix=/etc/rpcbench/spec.yaml", new: "--matrix=/etc/rpcbench/specs.yaml", want: "has no key specs.yaml"},
		{name: "results lost with the pod", file: "coordinator.yaml", old: "--results=/results", new: "--results=/tmp/results", want: "not on a mounted PersistentVolumeClaim"},
		{name: "shared volume on two nodes", file: "coordinator.yaml", old: "- topologyKey: kubernetes.io/hostname", new: "- topologyKey: topology.kubernetes.io/zone", want: "share the ReadWriteOnce claim"},
		{name: "unknown flag", file: "server.yaml", old: "- --admin\n", new: "- --admn\n", want: "unknown flag --admn", flags: true},
		{name: "value apart from its flag", file: "server.yaml", old: "- --transport=tcp\n", new: "- --transport\n            - tcp\n", want: `"tcp" is not a flag`, flags: true},
		{name: "unknown command", file: "server.yaml", old: "- serve\n", new: "- serv\n", want: `no command "serv"`, flags: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mutated := maps.Clone(files)
			if !strings.Contains(string(files[tc.file]), tc.old) {
				t.Fatalf("%s does not contain %q: update the case", tc.file, tc.old)
			}
			n := 1
			if tc.every {
				n = -1
			}
			mutated[tc.file] = []byte(strings.Replace(string(files[tc.file]), tc.old, tc.new, n))
			b, errs := decode(mutated)
			if b != nil && len(errs) == 0 {
				errs = append(checkObjects(b), checkWiring(b)...)
				if tc.flags {
					errs = append(errs, checkFlags(b.rpcbenchCommands(), rpcbenchFlags(t, commandsOf(b)...), pendingFlags)...)
				}
			}
			if len(errs) == 0 {
				t.Fatalf("accepted; want an error containing %q", tc.want)
			}
			if !slices.ContainsFunc(errs, func(err error) bool { return strings.Contains(err.Error(), tc.want) }) {
				t.Errorf("want an error containing %q, got:\n%v", tc.want, errors.Join(errs...))
			}
		})
	}
}

// The pending list tolerates flags while the binary lacks them, and
// reports each as soon as the binary has it, or when no manifest uses it.
func TestPendingFlagsLeaveTheList(t *testing.T) {
	b := load(t)
	pending := map[string][]string{"worker": {"coordinator", "name"}, "bench": {"workers", "expect"}}
	without := map[string]helpFlags{
		"serve": {"admin": false, "transport": true, "addr": true},
		"bench": {"join-timeout": true, "matrix": true, "server": true, "results": true, "progress": true},
	}
	if errs := checkFlags(b.rpcbenchCommands(), without, pending); len(errs) > 0 {
		t.Errorf("pending flags of a binary without them: %v", errors.Join(errs...))
	}

	with := maps.Clone(without)
	with["worker"] = helpFlags{"coordinator": true, "name": true}
	with["bench"] = maps.Clone(without["bench"])
	with["bench"]["workers"], with["bench"]["expect"] = true, true
	errs := checkFlags(b.rpcbenchCommands(), with, pending)
	reported := 0
	for _, err := range errs {
		if strings.Contains(err.Error(), "remove it from pendingFlags") {
			reported++
		}
	}
	if reported != 4 || len(errs) != 4 {
		t.Errorf("a binary with the 4 pending flags: want each reported, got %v", errors.Join(errs...))
	}

	pending["worker"] = append(pending["worker"], "ttl")
	errs = checkFlags(b.rpcbenchCommands(), without, pending)
	if !slices.ContainsFunc(errs, func(err error) bool { return strings.Contains(err.Error(), "--ttl, which no manifest passes") }) {
		t.Errorf("a pending flag no manifest passes was not reported; got %v", errs)
	}
}
