package discovery

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Opener connects to a registry given as a URL. Backends register one per
// URL scheme in their init functions.
type Opener func(ctx context.Context, target *url.URL) (Registry, error)

var schemes = struct {
	sync.RWMutex
	m map[string]Opener
}{m: map[string]Opener{}}

// RegisterScheme makes Open accept URLs of scheme, and of scheme+VARIANT
// unless that one is registered too (the opener reads the variant from
// the URL: "rpcbench+unix://..."); duplicates panic.
func RegisterScheme(scheme string, open Opener) {
	schemes.Lock()
	defer schemes.Unlock()
	if _, dup := schemes.m[scheme]; dup {
		panic("discovery: scheme registered twice: " + scheme)
	}
	schemes.m[scheme] = open
}

// Open connects to the registry named by target, for example
// "mem://" (this process's embedded registry), "rpcbench://127.0.0.1:7100"
// (an `rpcbench registry` process) or "etcd://127.0.0.1:2379/prefix". Only
// the schemes of the backend packages linked into the program are known.
func Open(ctx context.Context, target string) (Registry, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("discovery: registry %q is not a URL such as rpcbench://127.0.0.1:7100 (known schemes: %s)", target, strings.Join(Schemes(), ", "))
	}
	base, _, _ := strings.Cut(u.Scheme, "+")
	schemes.RLock()
	open, ok := schemes.m[u.Scheme]
	if !ok {
		open, ok = schemes.m[base]
	}
	schemes.RUnlock()
	if !ok {
		return nil, fmt.Errorf("discovery: unknown registry scheme %q in %q (known: %s)", u.Scheme, target, strings.Join(Schemes(), ", "))
	}
	return open(ctx, u)
}

// Schemes lists the registered URL schemes.
func Schemes() []string {
	schemes.RLock()
	defer schemes.RUnlock()
	return slices.Sorted(maps.Keys(schemes.m))
}
