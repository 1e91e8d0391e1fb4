package kubernetes_test

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"rpcbench/internal/testbin"
	"rpcbench/internal/testenv"
)

// localPods runs the manifests' containers as processes on this machine,
// as a kubelet would run them: the same command lines and environment,
// with each Service's address, each volume and each pod name replaced by
// a local one.
type localPods struct {
	t     *testing.T
	b     *bundle
	dir   string
	addrs map[string]string // "service:port" -> "127.0.0.1:port"
}

func newLocalPods(t *testing.T, b *bundle) *localPods {
	l := &localPods{t: t, b: b, dir: t.TempDir(), addrs: map[string]string{}}
	for _, o := range b.objects {
		if svc, ok := o.obj.(*corev1.Service); ok {
			for _, p := range svc.Spec.Ports {
				l.addrs[net.JoinHostPort(o.name, strconv.Itoa(int(p.Port)))] = freeAddr(t)
			}
		}
	}
	return l
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// podName is the name Kubernetes would give the i-th pod of w.
func podName(w workload, i int) string {
	if w.kind == "v1/Pod" {
		return w.name
	}
	return fmt.Sprintf("%s-%d", w.name, i)
}

// command returns the argv and environment of container c in pod name of
// w, binary replacing the image's entrypoint.
func (l *localPods) command(w workload, c corev1.Container, pod, binary string) (argv, env []string) {
	t := l.t
	vars := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			vars[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			vars[e.Name] = pod
		case e.ValueFrom.SecretKeyRef != nil:
			o, _ := l.b.find("v1/Secret", e.ValueFrom.SecretKeyRef.Name)
			s := o.obj.(*corev1.Secret)
			vars[e.Name] = cmpOr(s.StringData[e.ValueFrom.SecretKeyRef.Key], string(s.Data[e.ValueFrom.SecretKeyRef.Key]))
		default:
			t.Fatalf("%s: container %s: env %s: this test resolves only values, metadata.name and Secret keys", w, c.Name, e.Name)
		}
	}
	// Where the pod's ports are served: a Service's address, locally.
	listen := map[string]string{}
	for _, o := range l.b.objects {
		if svc, ok := o.obj.(*corev1.Service); ok && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.labels)) {
			for _, p := range svc.Spec.Ports {
				for _, cp := range c.Ports {
					if cp.Name == p.TargetPort.String() || strconv.Itoa(int(cp.ContainerPort)) == p.TargetPort.String() {
						listen["0.0.0.0:"+strconv.Itoa(int(cp.ContainerPort))] = l.addrs[net.JoinHostPort(o.name, strconv.Itoa(int(p.Port)))]
					}
				}
			}
		}
	}
	mounts := l.mount(w, c, pod)
	argv = append(slices.Clone(c.Command), c.Args...)
	if isRpcbench(c.Image) {
		argv = append([]string{binary}, argv...)
	} else {
		argv[0] = binary
	}
	for i, a := range argv[1:] {
		a = varRef.ReplaceAllStringFunc(a, func(ref string) string { return vars[ref[2:len(ref)-1]] })
		for from, to := range l.addrs {
			a = strings.ReplaceAll(a, from, to)
		}
		for from, to := range listen {
			a = strings.ReplaceAll(a, from, to)
		}
		for from, to := range mounts {
			a = strings.ReplaceAll(a, from, to)
		}
		argv[i+1] = a
	}
	env = os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return argv, env
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mount lays out c's volumes under the test's directory and returns each
// mount path's local directory: a ConfigMap's keys as files, a claim's
// directory shared by every pod that mounts it.
func (l *localPods) mount(w workload, c corev1.Container, pod string) map[string]string {
	t := l.t
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(w.pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		v := w.pod.Volumes[i]
		var local string
		switch {
		case v.PersistentVolumeClaim != nil:
			local = filepath.Join(l.dir, "claims", v.PersistentVolumeClaim.ClaimName)
		case v.EmptyDir != nil:
			local = filepath.Join(l.dir, "pods", pod, v.Name)
		case v.ConfigMap != nil:
			local = filepath.Join(l.dir, "pods", pod, v.Name)
			o, _ := l.b.find("v1/ConfigMap", v.ConfigMap.Name)
			for key, data := range o.obj.(*corev1.ConfigMap).Data {
				if err := os.MkdirAll(local, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(local, key), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		default:
			t.Fatalf("%s: volume %s: this test lays out only claims, emptyDirs and ConfigMaps", w, v.Name)
		}
		if err := os.MkdirAll(local, 0o755); err != nil {
			t.Fatal(err)
		}
		out[m.MountPath] = local
	}
	return out
}

// start starts a process that runs until the test ends; its output goes
// to a file that the test prints if it fails.
func (l *localPods) start(name string, argv, env []string) {
	t := l.t
	logPath := filepath.Join(l.dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s: %s\n%s", name, strings.Join(argv, " "), out)
		}
	})
}

// waitFor polls ready until it holds or d has passed.
func waitFor(t *testing.T, what string, d time.Duration, ready func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ready(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready after %v", what, d)
		}
	}
}

// The manifests' command lines, environment and volumes run a spec
// together: etcd, the server, the workers and the coordinator as local
// processes, with the spec's repetitions and windows shortened.
func TestManifestsRunASpec(t *testing.T) {
	b := load(t)
	bin := testbin.Rpcbench(t)
	if fl, err := rpcbenchHelp(bin, "worker"); err != nil || fl == nil {
		t.Skip("rpcbench has no worker command yet (see pendingFlags)")
	}
	etcdBin, err := exec.LookPath("etcd")
	if err != nil {
		testenv.Missing(t, "etcd", "apt-get install etcd-server (scripts/setup.sh does)")
	}
	l := newLocalPods(t, b)
	var coordinator []string
	var coordinatorEnv, workers []string
	for _, w := range b.workloads() {
		for _, c := range w.pod.Containers {
			for i := range int(w.replicas) {
				pod := podName(w, i)
				switch {
				case isEtcd(c.Image):
					argv, env := l.command(w, c, pod, etcdBin)
					// Other etcds may run on this machine: the peer port
					// too must be a free one.
					peer := "http://" + freeAddr(t)
					argv = append(argv, "--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=default="+peer)
					l.start(pod, argv, env)
				case isRpcbench(c.Image) && len(c.Args) > 0 && c.Args[0] == "bench":
					coordinator, coordinatorEnv = l.command(w, c, pod, bin)
				case isRpcbench(c.Image):
					argv, env := l.command(w, c, pod, bin)
					l.start(pod, argv, env)
					if c.Args[0] == "worker" {
						workers = append(workers, pod)
					}
				}
			}
		}
	}
	// What the coordinator's init container waits for.
	for addr := range l.addrs {
		if strings.HasPrefix(addr, "rpcbench-etcd:") {
			waitFor(t, "etcd", 30*time.Second, func() bool {
				resp, err := http.Get("http://" + l.addrs[addr] + "/health")
				if err == nil {
					resp.Body.Close()
				}
				return err == nil && resp.StatusCode == http.StatusOK
			})
		} else {
			waitFor(t, addr, 30*time.Second, func() bool {
				c, err := net.Dial("tcp", l.addrs[addr])
				if err == nil {
					c.Close()
				}
				return err == nil
			})
		}
	}
	if coordinator == nil || len(workers) == 0 {
		t.Fatalf("coordinator %v, workers %v: the manifests run neither", coordinator, workers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, coordinator[0], append(coordinator[1:], "--reps=1", "--warmup=100ms", "--duration=300ms")...)
	cmd.Env = coordinatorEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	var runs []string
	filepath.WalkDir(filepath.Join(l.dir, "claims"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "results.json" {
			runs = append(runs, p)
		}
		return nil
	})
	if len(runs) != 1 {
		t.Fatalf("want one results.json on the results claim, found %v", runs)
	}
	data, err := os.ReadFile(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		if !strings.Contains(string(data), strconv.Quote(w)) {
			t.Errorf("%s does not name worker %s", runs[0], w)
		}
	}
}
