// Package targets measures services rpcbench did not start: a gRPC service
// (grpc://, grpcs://), an HTTP/1.1 endpoint (http://, https://), or
// rpcbench's own services on a server the user runs (rpcbench+TRANSPORT://).
// Each kind lives in its own package and registers its URL schemes here
// when imported, database/sql style:
//
//	import _ "rpcbench/targets/grpctarget"
//
// A target is a load target like any cell's (Dial, NewCaller, Verify), so
// every load model, the network profiles' relay, the reports, compare and
// the gate work on it unchanged. Its server's costs are unknown: only the
// client side is measured.
package targets

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"rpcbench/target"
)

// Def describes one external target: the command line's flags, or one
// entry of a spec's targets map.
type Def struct {
	// URL is SCHEME://HOST:PORT[/path]: grpc, grpcs, http, https or
	// rpcbench+TRANSPORT.
	URL string `yaml:"url" json:"url"`
	// Call is the method: pkg.Service/Method for gRPC, Service.Method for
	// rpcbench. HTTP targets take the URL's path.
	Call string `yaml:"call,omitempty" json:"call,omitempty"`
	// Proto and ImportPaths, or Protoset, describe a gRPC service; with
	// neither, the server's reflection service does.
	Proto       []string `yaml:"proto,omitempty" json:"proto,omitempty"`
	ImportPaths []string `yaml:"import_paths,omitempty" json:"import_paths,omitempty"`
	Protoset    string   `yaml:"protoset,omitempty" json:"protoset,omitempty"`
	// Data is the request as JSON, or @FILE: a file of JSON documents
	// (one per line, or a JSON array) sent in turn, one per call. It may
	// hold templates ({{.RequestNumber}}, {{randomString 8}}, ...).
	Data string `yaml:"data,omitempty" json:"data,omitempty"`
	// Metadata is sent with every gRPC call.
	Metadata map[string]string `yaml:"metadata,omitempty" json:"metadata,omitempty"`
	// Method and Headers shape HTTP requests (default POST with data, GET
	// without).
	Method  string            `yaml:"method,omitempty" json:"method,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Codec carries rpcbench requests (default proto).
	Codec string `yaml:"codec,omitempty" json:"codec,omitempty"`
	// TLS for grpcs:// and https://: a CA to trust, a client certificate,
	// or no verification at all.
	CACert     string `yaml:"cacert,omitempty" json:"cacert,omitempty"`
	Cert       string `yaml:"cert,omitempty" json:"cert,omitempty"`
	Key        string `yaml:"key,omitempty" json:"key,omitempty"`
	SkipVerify bool   `yaml:"skip_verify,omitempty" json:"skip_verify,omitempty"`
}

// Target is an external load target.
type Target interface {
	target.Target
	// Verify makes one call and checks the reply (a status below 400, a
	// reply that decodes as the method's output type), so that a cell
	// never measures errors it could have caught before the load.
	target.Verifier
	// Addr is the HOST:PORT the URL names; Network is "tcp" or "udp", so
	// that a relay (a network profile) can be put in front of it.
	Addr() string
	Network() string
	// Via returns the same target reached through addr, a relay in front
	// of Addr: TLS server names and Host headers still name Addr.
	Via(addr string) Target
	// Settings describe the target for the run's manifest.
	Settings() map[string]string
}

// Kind describes one cell value of a target for reports: the protocol
// (the transport dimension's value) and the encoding of requests (the
// codec's).
type Kind struct {
	Transport, Codec string
}

// Opener builds a target of one kind from its definition: it loads
// descriptors, checks the data against the request type and reaches the
// server, so that bad input fails before any load is sent.
type Opener struct {
	Open func(ctx context.Context, d Def) (Target, error)
	// Kind names the target's protocol and encoding from its definition
	// alone (no network).
	Kind func(d Def) Kind
}

var kinds = struct {
	sync.RWMutex
	m map[string]Opener
}{m: map[string]Opener{}}

// Register makes scheme (grpc, https, ...; "rpcbench+" for every
// rpcbench+TRANSPORT) a target URL scheme. Duplicates panic.
func Register(scheme string, o Opener) {
	kinds.Lock()
	defer kinds.Unlock()
	if _, dup := kinds.m[scheme]; dup || o.Open == nil || o.Kind == nil {
		panic(fmt.Sprintf("targets: scheme %q registered twice or incomplete", scheme))
	}
	kinds.m[scheme] = o
}

// Schemes lists the registered schemes.
func Schemes() []string {
	kinds.RLock()
	defer kinds.RUnlock()
	return slices.Sorted(maps.Keys(kinds.m))
}

// lookup finds the opener of d's URL scheme.
func lookup(d Def) (Opener, *url.URL, error) {
	u, err := url.Parse(d.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Opener{}, nil, fmt.Errorf("targets: target %q: want SCHEME://HOST:PORT[/path] (schemes: %s)", d.URL, strings.Join(Schemes(), ", "))
	}
	kinds.RLock()
	defer kinds.RUnlock()
	o, ok := kinds.m[u.Scheme]
	if !ok {
		if base, _, plus := strings.Cut(u.Scheme, "+"); plus {
			o, ok = kinds.m[base+"+"]
		}
	}
	if !ok {
		return Opener{}, nil, fmt.Errorf("targets: target %q: unknown scheme %q (schemes: %s)", d.URL, u.Scheme, strings.Join(Schemes(), ", "))
	}
	return o, u, nil
}

// Check validates d's URL without opening it.
func Check(d Def) error {
	_, _, err := lookup(d)
	return err
}

// KindOf names d's protocol and encoding.
func KindOf(d Def) (Kind, error) {
	o, _, err := lookup(d)
	if err != nil {
		return Kind{}, err
	}
	return o.Kind(d), nil
}

// Open builds the target d describes; see Opener.
func Open(ctx context.Context, d Def) (Target, error) {
	o, _, err := lookup(d)
	if err != nil {
		return nil, err
	}
	return o.Open(ctx, d)
}

// HostPort is u's host with its port, the scheme's default if none.
func HostPort(u *url.URL, defaultPort string) string {
	if u.Port() != "" {
		return u.Host
	}
	return u.Hostname() + ":" + defaultPort
}
