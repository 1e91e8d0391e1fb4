package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"

	"rpcbench/harness/spec"
	"rpcbench/targets"
	_ "rpcbench/targets/grpctarget" // grpc://, grpcs://
	_ "rpcbench/targets/httptarget" // http://, https://
	_ "rpcbench/targets/rpcext"     // rpcbench+TRANSPORT://
)

// targetFlags describe an external target for an ad-hoc cell, with ghz's
// names where ghz has one.
type targetFlags struct {
	url, call, data, protos, importPaths, protoset, metadata, method, cacert string
	headers                                                                  headerList
	skipVerify, insecure                                                     bool
}

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(s string) error { *h = append(*h, s); return nil }

func (tf *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.url, "target", "", "measure an external target instead of rpcbench's own server: grpc://HOST:PORT, grpcs://..., http://HOST:PORT/path, https://..., rpcbench+TRANSPORT://HOST:PORT")
	fs.StringVar(&tf.call, "call", "", "method to call: pkg.Service/Method (gRPC), Service.Method (rpcbench)")
	fs.StringVar(&tf.data, "data", "", "request as JSON, or @FILE of JSON lines (or a JSON array) sent in turn; templates {{.RequestNumber}} {{.WorkerID}} {{.TimestampUnix}} {{randomString 8}} {{randomInt 1 100}}")
	fs.StringVar(&tf.protos, "proto", "", "gRPC: comma-separated .proto files describing the service (default: the server's reflection service)")
	fs.StringVar(&tf.importPaths, "import-paths", "", "gRPC: comma-separated import paths for --proto (default: each file's directory)")
	fs.StringVar(&tf.protoset, "protoset", "", "gRPC: a protoset file (protoc --descriptor_set_out --include_imports)")
	fs.StringVar(&tf.metadata, "metadata", "", `gRPC: metadata for every call as a JSON object, e.g. '{"k":"v"}'`)
	fs.StringVar(&tf.method, "method", "", "HTTP: request method (default POST with --data, GET without)")
	fs.Var(&tf.headers, "header", "HTTP: a header 'Name: value' (repeatable)")
	fs.StringVar(&tf.cacert, "cacert", "", "grpcs/https: trust this CA certificate (PEM) instead of the system's; --cert/--key give a client certificate")
	fs.BoolVar(&tf.skipVerify, "skip-verify", false, "grpcs/https: do not verify the server's certificate")
	fs.BoolVar(&tf.insecure, "insecure", false, "gRPC without TLS (the default for grpc://)")
}

// def builds the target's definition; codec is the --codec flag's value
// if it was given.
func (tf *targetFlags) def(codec, cert, key string) (targets.Def, error) {
	d := targets.Def{URL: tf.url, Call: tf.call, Data: tf.data, Protoset: tf.protoset, Method: tf.method,
		CACert: tf.cacert, Cert: cert, Key: key, SkipVerify: tf.skipVerify, Codec: codec}
	u, err := url.Parse(tf.url)
	if err != nil {
		return d, err
	}
	if tf.insecure && u.Scheme != "grpc" {
		return d, fmt.Errorf("--insecure is for grpc:// (grpcs:// is TLS; --skip-verify skips the certificate check)")
	}
	if codec != "" && !strings.HasPrefix(u.Scheme, "rpcbench+") {
		return d, fmt.Errorf("--codec applies to rpcbench+TRANSPORT:// targets; a %s target's encoding is its own", u.Scheme)
	}
	if tf.protos != "" {
		d.Proto = strings.Split(tf.protos, ",")
	}
	if tf.importPaths != "" {
		d.ImportPaths = strings.Split(tf.importPaths, ",")
	}
	if tf.metadata != "" {
		if err := json.Unmarshal([]byte(tf.metadata), &d.Metadata); err != nil {
			return d, fmt.Errorf("--metadata %q: want a JSON object of strings: %v", tf.metadata, err)
		}
	}
	for _, h := range tf.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return d, fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		if d.Headers == nil {
			d.Headers = map[string]string{}
		}
		d.Headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return d, targets.Check(d)
}

// targetSpec builds the one-cell spec of an ad-hoc target: the target is
// named after its URL's scheme (target=grpc/conc=64/...).
func targetSpec(d targets.Def, conc, conns int, load string) (*spec.Spec, error) {
	u, _ := url.Parse(d.URL)
	sp := spec.Spec{Name: "adhoc", Targets: map[string]targets.Def{u.Scheme: d},
		Dimensions: &spec.Dimensions{Target: []string{u.Scheme}, Concurrency: []int{conc}, Connections: []int{conns}, Load: []string{load}}}
	b, err := yaml.Marshal(&sp)
	if err != nil {
		return nil, err
	}
	return spec.Parse(b)
}
