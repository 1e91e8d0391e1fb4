package kubernetes_test

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// checkObjects checks what one object promises another, and the pods'
// resources: everything but the flags, which need the binaries.
func checkObjects(b *bundle) []error {
	var errs []error
	add := func(o fmt.Stringer, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", o, fmt.Sprintf(format, args...)))
	}
	seen := map[string]bool{}
	for _, o := range b.objects {
		if seen[o.kind+"/"+o.name] {
			add(o, "a second %s named %s", o.kind, o.name)
		}
		seen[o.kind+"/"+o.name] = true
		if ns := o.obj.(metav1.Object).GetNamespace(); ns != "" {
			add(o, "namespace %q: kustomization.yaml sets every object's namespace", ns)
		}
	}
	if _, ok := b.find("v1/Namespace", b.kust.Namespace); b.kust.Namespace != "" && !ok {
		errs = append(errs, fmt.Errorf("kustomization.yaml: namespace %s is not created by any resource", b.kust.Namespace))
	}
	ws := b.workloads()
	for _, w := range ws {
		if w.selector != nil {
			sel, err := metav1.LabelSelectorAsSelector(w.selector)
			if err != nil {
				add(w, "selector: %v", err)
			} else if !sel.Matches(labels.Set(w.labels)) {
				add(w, "selector %s does not match its pod template's labels %v", sel, w.labels)
			}
		}
		errs = append(errs, checkResources(w)...)
		errs = append(errs, checkReferences(b, w)...)
	}
	for _, o := range b.objects {
		switch v := o.obj.(type) {
		case *corev1.Service:
			errs = append(errs, checkService(o, v, ws)...)
		case *appsv1.StatefulSet:
			svc, ok := b.find("v1/Service", v.Spec.ServiceName)
			if !ok {
				add(o, "serviceName %q: no such Service", v.Spec.ServiceName)
			} else if !labels.SelectorFromSet(svc.obj.(*corev1.Service).Spec.Selector).Matches(labels.Set(v.Spec.Template.Labels)) {
				add(o, "its governing Service %s does not select its pods", v.Spec.ServiceName)
			}
		}
	}
	errs = append(errs, checkSharedVolumes(b, ws)...)
	return errs
}

// isRpcbench reports whether image is the rpcbench image (kustomize's
// images: entry sets its registry and tag).
func isRpcbench(image string) bool {
	return image == "rpcbench" || strings.HasPrefix(image, "rpcbench:")
}

// containers returns the pod's init containers, then its containers.
func containers(p *corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(p.InitContainers), p.Containers...)
}

// checkResources checks that the pod is Guaranteed (every container's
// requests equal its limits, CPU and memory) and that rpcbench's
// containers have whole CPUs: the static CPU manager gives exclusive cores
// only to those.
func checkResources(w workload) []error {
	var errs []error
	for i, c := range containers(w.pod) {
		isInit := i < len(w.pod.InitContainers)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[r]
			lim, okLim := c.Resources.Limits[r]
			switch {
			case !okReq || !okLim:
				errs = append(errs, fmt.Errorf("%s: container %s: %s requests and limits must both be set (Guaranteed QoS)", w, c.Name, r))
			case req.Cmp(lim) != 0:
				errs = append(errs, fmt.Errorf("%s: container %s: %s requests %s != limits %s: the pod is not Guaranteed", w, c.Name, r, req.String(), lim.String()))
			}
		}
		if cpu, ok := c.Resources.Limits[corev1.ResourceCPU]; ok && isRpcbench(c.Image) && !isInit {
			if cpu.MilliValue()%1000 != 0 || cpu.MilliValue() < 1000 {
				errs = append(errs, fmt.Errorf("%s: container %s: cpu %s is not whole CPUs: the static CPU manager pins only integer CPUs", w, c.Name, cpu.String()))
			}
		}
		if c.Image != "" && !isRpcbench(c.Image) && (!strings.Contains(path.Base(c.Image), ":") || strings.HasSuffix(c.Image, ":latest")) {
			errs = append(errs, fmt.Errorf("%s: container %s: image %s has no fixed tag", w, c.Name, c.Image))
		}
	}
	return errs
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkReferences checks the Secrets, ConfigMaps, claims and variables a
// pod refers to.
func checkReferences(b *bundle, w workload) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", w, fmt.Sprintf(format, args...)))
	}
	hasKey := func(kind, name, key string) bool {
		o, ok := b.find(kind, name)
		if !ok {
			add("%s %q: no such object", kind, name)
			return true
		}
		switch v := o.obj.(type) {
		case *corev1.Secret:
			_, inData := v.Data[key]
			_, inString := v.StringData[key]
			return inData || inString
		case *corev1.ConfigMap:
			_, ok := v.Data[key]
			return ok
		}
		return false
	}
	for _, c := range containers(w.pod) {
		env := map[string]bool{}
		for _, e := range c.Env {
			env[e.Name] = true
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil && !hasKey("v1/Secret", r.Name, r.Key) {
				add("container %s: env %s: Secret %s has no key %q", c.Name, e.Name, r.Name, r.Key)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !hasKey("v1/ConfigMap", r.Name, r.Key) {
				add("container %s: env %s: ConfigMap %s has no key %q", c.Name, e.Name, r.Name, r.Key)
			}
		}
		// The kubelet leaves a $(VAR) it cannot expand as it is: a worker
		// would join as "$(POD_NAME)".
		for _, arg := range append(slices.Clone(c.Command), c.Args...) {
			for _, m := range varRef.FindAllStringSubmatch(arg, -1) {
				if !env[m[1]] {
					add("container %s: %q refers to $(%s), which its env does not define", c.Name, arg, m[1])
				}
			}
		}
		volumes := map[string]bool{}
		for _, v := range w.pod.Volumes {
			volumes[v.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				add("container %s: volume mount %s: the pod has no such volume", c.Name, m.Name)
			}
		}
	}
	for _, v := range w.pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			if _, ok := b.find("v1/ConfigMap", v.ConfigMap.Name); !ok {
				add("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
		case v.Secret != nil:
			if _, ok := b.find("v1/Secret", v.Secret.SecretName); !ok {
				add("volume %s: no Secret %s", v.Name, v.Secret.SecretName)
			}
		case v.PersistentVolumeClaim != nil:
			if _, ok := b.find("v1/PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName); !ok {
				add("volume %s: no PersistentVolumeClaim %s", v.Name, v.PersistentVolumeClaim.ClaimName)
			}
		}
	}
	return errs
}

// checkService checks that the Service selects pods and that its target
// ports are ports of theirs.
func checkService(o object, svc *corev1.Service, ws []workload) []error {
	var errs []error
	if len(svc.Spec.Selector) == 0 {
		return []error{fmt.Errorf("%s: no selector", o)}
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var selected []workload
	for _, w := range ws {
		if sel.Matches(labels.Set(w.labels)) {
			selected = append(selected, w)
		}
	}
	if len(selected) == 0 {
		return []error{fmt.Errorf("%s: selector %s matches no pod", o, sel)}
	}
	for _, p := range svc.Spec.Ports {
		target := p.TargetPort.String()
		if target == "0" || target == "" {
			target = strconv.Itoa(int(p.Port))
		}
		for _, w := range selected {
			found := false
			for _, c := range w.pod.Containers {
				for _, cp := range c.Ports {
					found = found || cp.Name == target || strconv.Itoa(int(cp.ContainerPort)) == target
				}
			}
			if !found {
				errs = append(errs, fmt.Errorf("%s: port %d: target port %s is not a port of %s", o, p.Port, target, w))
			}
		}
	}
	return errs
}

// checkSharedVolumes checks that pods sharing a ReadWriteOnce claim are
// bound to one node: the volume attaches to one node at a time, and a pod
// elsewhere would wait for it forever.
func checkSharedVolumes(b *bundle, ws []workload) []error {
	users := map[string][]workload{}
	for _, w := range ws {
		for _, v := range w.pod.Volumes {
			if v.PersistentVolumeClaim != nil {
				users[v.PersistentVolumeClaim.ClaimName] = append(users[v.PersistentVolumeClaim.ClaimName], w)
			}
		}
	}
	var errs []error
	for _, claim := range slices.Sorted(maps.Keys(users)) {
		o, ok := b.find("v1/PersistentVolumeClaim", claim)
		if !ok || !slices.Contains(o.obj.(*corev1.PersistentVolumeClaim).Spec.AccessModes, corev1.ReadWriteOnce) {
			continue
		}
		us := users[claim]
		for i := range us {
			for j := i + 1; j < len(us); j++ {
				if !sameNode(us[i], us[j]) && !sameNode(us[j], us[i]) {
					errs = append(errs, fmt.Errorf("%s and %s share the ReadWriteOnce claim %s but neither requires the other's node (podAffinity, topologyKey kubernetes.io/hostname)", us[i], us[j], claim))
				}
			}
		}
	}
	return errs
}

// sameNode reports whether a requires to run on the node of b's pods.
func sameNode(a, b workload) bool {
	if a.pod.Affinity == nil || a.pod.Affinity.PodAffinity == nil {
		return false
	}
	for _, term := range a.pod.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
		if err == nil && term.TopologyKey == corev1.LabelHostname && !sel.Empty() && sel.Matches(labels.Set(b.labels)) {
			return true
		}
	}
	return false
}

// commandLine is a container's arguments: a subcommand, then flags.
type commandLine struct {
	sub   string
	flags []flagArg
	stray []string // arguments that are not flags
}

type flagArg struct {
	name, value string
	hasValue    bool // written --name=value
}

func parseArgs(args []string) commandLine {
	var cl commandLine
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cl.sub, args = args[0], args[1:]
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			cl.stray = append(cl.stray, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		cl.flags = append(cl.flags, flagArg{name, value, hasValue})
	}
	return cl
}

func (cl commandLine) value(name string) (string, bool) {
	for _, f := range cl.flags {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// rpcbenchCommand is one container that runs rpcbench.
type rpcbenchCommand struct {
	w  workload
	c  corev1.Container
	cl commandLine
}

func (r rpcbenchCommand) String() string { return fmt.Sprintf("%s: container %s", r.w, r.c.Name) }

func (b *bundle) rpcbenchCommands() []rpcbenchCommand {
	var out []rpcbenchCommand
	for _, w := range b.workloads() {
		for _, c := range containers(w.pod) {
			if isRpcbench(c.Image) {
				out = append(out, rpcbenchCommand{w, c, parseArgs(c.Args)})
			}
		}
	}
	return out
}

// checkWiring checks that the rpcbench commands reach each other: the
// workers and the coordinator meet at one etcd prefix of a Service here,
// the coordinator expects as many workers as run, and its server, spec
// and results are a Service, a mounted ConfigMap key and a mounted claim.
func checkWiring(b *bundle) []error {
	var errs []error
	add := func(r rpcbenchCommand, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", r, fmt.Sprintf(format, args...)))
	}
	var workers, coordinators []rpcbenchCommand
	var replicas int32
	for _, r := range b.rpcbenchCommands() {
		if len(r.c.Command) > 0 {
			add(r, "sets command %v: the image's entrypoint is rpcbench, give its arguments as args", r.c.Command)
		}
		switch r.cl.sub {
		case "worker":
			workers = append(workers, r)
			replicas += r.w.replicas
			if u, ok := r.cl.value("coordinator"); !ok {
				add(r, "worker without --coordinator")
			} else if err := serviceEndpoint(b, u, "etcd"); err != nil {
				add(r, "--coordinator: %v", err)
			}
		case "bench":
			coordinators = append(coordinators, r)
			if u, ok := r.cl.value("workers"); ok {
				if err := serviceEndpoint(b, u, "etcd"); err != nil {
					add(r, "--workers: %v", err)
				}
			}
			if s, ok := r.cl.value("server"); !ok {
				add(r, "bench without --server: it would start servers of its own in the coordinator's pod")
			} else if err := serviceEndpoint(b, s, ""); err != nil {
				add(r, "--server: %v", err)
			}
			if m, ok := r.cl.value("matrix"); ok {
				if err := mountedKey(b, r, m); err != nil {
					add(r, "--matrix: %v", err)
				}
			}
			if d, ok := r.cl.value("results"); !ok {
				add(r, "bench without --results: the run would stay in the pod and be lost")
			} else if !mountedClaim(r, d) {
				add(r, "--results=%s is not on a mounted PersistentVolumeClaim: the run would be lost with the pod", d)
			}
		}
	}
	errs = append(errs, checkScriptEndpoints(b)...)
	for _, c := range coordinators {
		want, _ := c.cl.value("workers")
		for _, w := range workers {
			if got, _ := w.cl.value("coordinator"); got != want {
				add(w, "--coordinator=%s, but the coordinator %s publishes at --workers=%s", got, c, want)
			}
		}
		if e, ok := c.cl.value("expect"); ok && e != strconv.Itoa(int(replicas)) {
			add(c, "--expect=%s, but the workers have %d replicas", e, replicas)
		}
	}
	return errs
}

// serviceEndpoint checks that addr ([scheme://]HOST:PORT[/...]) names a
// Service of the bundle by its short name and one of its ports.
func serviceEndpoint(b *bundle, addr, scheme string) error {
	hostPort := addr
	if scheme != "" {
		u, err := url.Parse(addr)
		if err != nil {
			return err
		}
		if u.Scheme != scheme || u.Path == "" || u.Path == "/" {
			return fmt.Errorf("%q is not %s://HOST:PORT/PREFIX", addr, scheme)
		}
		hostPort = u.Host
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return err
	}
	o, ok := b.find("v1/Service", host)
	if !ok {
		return fmt.Errorf("%s: no Service %s here", addr, host)
	}
	for _, p := range o.obj.(*corev1.Service).Spec.Ports {
		if strconv.Itoa(int(p.Port)) == port {
			return nil
		}
	}
	return fmt.Errorf("%s: Service %s has no port %s", addr, host, port)
}

// mountedKey checks that file is a key of a ConfigMap mounted at its
// directory.
func mountedKey(b *bundle, r rpcbenchCommand, file string) error {
	dir, key := path.Split(file)
	for _, m := range r.c.VolumeMounts {
		if path.Clean(m.MountPath) != path.Clean(dir) {
			continue
		}
		for _, v := range r.w.pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				if o, ok := b.find("v1/ConfigMap", v.ConfigMap.Name); ok {
					if _, ok := o.obj.(*corev1.ConfigMap).Data[key]; ok {
						return nil
					}
					return fmt.Errorf("ConfigMap %s mounted at %s has no key %s", v.ConfigMap.Name, m.MountPath, key)
				}
			}
		}
	}
	return fmt.Errorf("no ConfigMap is mounted at %s", dir)
}

func mountedClaim(r rpcbenchCommand, dir string) bool {
	for _, m := range r.c.VolumeMounts {
		if dir != path.Clean(m.MountPath) && !strings.HasPrefix(path.Clean(dir), path.Clean(m.MountPath)+"/") {
			continue
		}
		for _, v := range r.w.pod.Volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim != nil {
				return true
			}
		}
	}
	return false
}

// scriptEndpoint is an address in another container's command line: a
// URL (etcd's advertised URL, a health check) or nc's HOST PORT.
var scriptEndpoint = regexp.MustCompile(`https?://([a-z0-9.-]+:[0-9]+)|nc -z ([a-z0-9.-]+) ([0-9]+)`)

// checkScriptEndpoints checks that the addresses the other containers
// wait for or advertise are Services and ports of the bundle.
func checkScriptEndpoints(b *bundle) []error {
	var errs []error
	for _, w := range b.workloads() {
		for _, c := range containers(w.pod) {
			if isRpcbench(c.Image) {
				continue
			}
			for _, arg := range append(slices.Clone(c.Command), c.Args...) {
				for _, m := range scriptEndpoint.FindAllStringSubmatch(arg, -1) {
					addr := m[1]
					if addr == "" {
						addr = net.JoinHostPort(m[2], m[3])
					}
					host, _, _ := net.SplitHostPort(addr)
					if host == "0.0.0.0" || host == "localhost" || host == "127.0.0.1" {
						continue
					}
					if err := serviceEndpoint(b, addr, ""); err != nil {
						errs = append(errs, fmt.Errorf("%s: container %s: %v", w, c.Name, err))
					}
				}
			}
		}
	}
	return errs
}
