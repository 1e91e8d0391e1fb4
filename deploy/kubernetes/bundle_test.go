package kubernetes_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization that these
// manifests use; a field outside it is an error, so that one added to
// kustomization.yaml is added here and checked too.
type kustomization struct {
	APIVersion         string   `json:"apiVersion"`
	Kind               string   `json:"kind"`
	Namespace          string   `json:"namespace"`
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	} `json:"configMapGenerator"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// object is one decoded manifest document.
type object struct {
	file string
	kind string // "apps/v1/Deployment"
	name string
	obj  any // *appsv1.Deployment, *corev1.Service, ...
}

func (o object) String() string { return fmt.Sprintf("%s: %s %s", o.file, o.kind, o.name) }

// kinds are the API types the manifests may hold, by apiVersion/kind.
var kinds = map[string]func() any{
	"v1/Namespace":             func() any { return new(corev1.Namespace) },
	"v1/Secret":                func() any { return new(corev1.Secret) },
	"v1/ConfigMap":             func() any { return new(corev1.ConfigMap) },
	"v1/Service":               func() any { return new(corev1.Service) },
	"v1/PersistentVolumeClaim": func() any { return new(corev1.PersistentVolumeClaim) },
	"v1/Pod":                   func() any { return new(corev1.Pod) },
	"apps/v1/Deployment":       func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":      func() any { return new(appsv1.StatefulSet) },
	"batch/v1/Job":             func() any { return new(batchv1.Job) },
}

func kindNames() []string {
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// bundle is the directory's manifests, decoded.
type bundle struct {
	kust    kustomization
	files   map[string][]byte // by name, every file the kustomization names
	objects []object          // the resources' documents, then the generated ConfigMaps
}

// readManifests returns the YAML files of dir by name.
func readManifests(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

// strict converts YAML to JSON and decodes it into v, with duplicate,
// unknown and wrongly cased fields as errors.
func strict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := k8sjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decode decodes the kustomization and every file it names.
func decode(files map[string][]byte) (*bundle, []error) {
	var errs []error
	b := &bundle{files: files}
	k, ok := files["kustomization.yaml"]
	if !ok {
		return nil, []error{errors.New("no kustomization.yaml")}
	}
	if err := strict(k, &b.kust); err != nil {
		return nil, []error{fmt.Errorf("kustomization.yaml: %w", err)}
	}
	if b.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || b.kust.Kind != "Kustomization" {
		errs = append(errs, fmt.Errorf("kustomization.yaml: apiVersion %q kind %q, want kustomize.config.k8s.io/v1beta1 Kustomization", b.kust.APIVersion, b.kust.Kind))
	}
	listed := map[string]bool{"kustomization.yaml": true}
	for _, r := range b.kust.Resources {
		listed[r] = true
		data, ok := files[r]
		if !ok {
			errs = append(errs, fmt.Errorf("kustomization.yaml: resource %s: no such file", r))
			continue
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			o, err := decodeObject(r, []byte(doc))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: document %d: %w", r, i+1, err))
				continue
			}
			b.objects = append(b.objects, o)
		}
	}
	for _, g := range b.kust.ConfigMapGenerator {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: g.Name}, Data: map[string]string{}}
		for _, f := range g.Files {
			listed[f] = true
			data, ok := files[f]
			if !ok {
				errs = append(errs, fmt.Errorf("kustomization.yaml: configMapGenerator %s: file %s: no such file", g.Name, f))
			}
			cm.Data[filepath.Base(f)] = string(data)
		}
		b.objects = append(b.objects, object{file: "kustomization.yaml", kind: "v1/ConfigMap", name: g.Name, obj: cm})
	}
	var unlisted []string
	for f := range files {
		if !listed[f] {
			unlisted = append(unlisted, f)
		}
	}
	slices.Sort(unlisted)
	for _, f := range unlisted {
		errs = append(errs, fmt.Errorf("%s is not listed in kustomization.yaml: kubectl apply -k would leave it out", f))
	}
	return b, errs
}

func stripComments(doc string) string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// decodeObject decodes one document into the API type its apiVersion and
// kind name.
func decodeObject(file string, doc []byte) (object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return object{}, err
	}
	kind := tm.APIVersion + "/" + tm.Kind
	newObj, ok := kinds[kind]
	if !ok {
		return object{}, fmt.Errorf("unknown kind %q (apiVersion %q): the manifests use %s", tm.Kind, tm.APIVersion, strings.Join(kindNames(), ", "))
	}
	obj := newObj()
	if err := strict(doc, obj); err != nil {
		return object{}, fmt.Errorf("%s: %w", kind, err)
	}
	meta := obj.(metav1.Object)
	if meta.GetName() == "" {
		return object{}, fmt.Errorf("%s without metadata.name", kind)
	}
	return object{file: file, kind: kind, name: meta.GetName(), obj: obj}, nil
}

// find returns the object of kind named name.
func (b *bundle) find(kind, name string) (object, bool) {
	for _, o := range b.objects {
		if o.kind == kind && o.name == name {
			return o, true
		}
	}
	return object{}, false
}

// workload is an object that runs pods.
type workload struct {
	object
	selector *metav1.LabelSelector // nil for a bare Pod
	replicas int32
	labels   map[string]string
	pod      *corev1.PodSpec
}

func (b *bundle) workloads() []workload {
	var ws []workload
	for _, o := range b.objects {
		w := workload{object: o, replicas: 1}
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			w.selector, w.labels, w.pod = v.Spec.Selector, v.Spec.Template.Labels, &v.Spec.Template.Spec
			if v.Spec.Replicas != nil {
				w.replicas = *v.Spec.Replicas
			}
		case *appsv1.StatefulSet:
			w.selector, w.labels, w.pod = v.Spec.Selector, v.Spec.Template.Labels, &v.Spec.Template.Spec
			if v.Spec.Replicas != nil {
				w.replicas = *v.Spec.Replicas
			}
		case *batchv1.Job:
			w.selector, w.labels, w.pod = v.Spec.Selector, v.Spec.Template.Labels, &v.Spec.Template.Spec
		case *corev1.Pod:
			w.labels, w.pod = v.Labels, &v.Spec
		default:
			continue
		}
		ws = append(ws, w)
	}
	return ws
}
