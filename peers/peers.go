package peers

import (
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"rpcbench/codecs/benchmsg"
	"rpcbench/harness"
)

// Peer is one baseline. Serve and NewTarget are safe for concurrent use.
type Peer struct {
	// Serve starts the server side listening on addr ("127.0.0.1:0" picks
	// a port) and returns the address it listens on and a function that
	// stops it and waits for its goroutines.
	Serve func(addr string) (actual string, stop func() error, err error)
	// NewTarget builds the client side of one cell.
	NewTarget func(cfg harness.PeerConfig) (harness.Target, error)
	// Settings describes the peer's configuration for the manifest:
	// connections, multiplexing, buffer sizes, codec, library versions.
	Settings func() map[string]string
	// Network is "udp" for peers on datagrams; empty means TCP.
	Network string
}

var registry = struct {
	sync.RWMutex
	m map[string]Peer
}{m: map[string]Peer{}}

// Register adds p under name here and as a harness peer; duplicates panic.
func Register(name string, p Peer) {
	registry.Lock()
	if _, dup := registry.m[name]; dup || p.Serve == nil || p.NewTarget == nil {
		registry.Unlock()
		panic(fmt.Sprintf("peers: %q registered twice or incomplete", name))
	}
	registry.m[name] = p
	registry.Unlock()
	harness.RegisterPeer(name, harness.Peer{
		ServerArgs: func(addr string) []string {
			return []string{"bench-server", "--transport", name, "--addr", addr}
		},
		NewTarget: p.NewTarget,
		Settings:  p.Settings,
		Network:   p.Network,
	})
}

// Lookup returns the peer registered as name.
func Lookup(name string) (Peer, bool) {
	registry.RLock()
	defer registry.RUnlock()
	p, ok := registry.m[name]
	return p, ok
}

// Names lists the registered peers, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Sorted(maps.Keys(registry.m))
}

// SettingsOf returns name's settings, or nil for an unknown name.
func SettingsOf(name string) map[string]string {
	p, ok := Lookup(name)
	if !ok || p.Settings == nil {
		return nil
	}
	return p.Settings()
}

// FormatSettings renders settings as "k=v, k=v" in key order.
func FormatSettings(s map[string]string) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s[k]
	}
	return strings.Join(parts, ", ")
}

// moduleVersion is the version of module path in this binary ("devel"
// in tests, where the main module's dependencies still carry versions).
func moduleVersion(path string) string {
	if path == "std" {
		bi, ok := debug.ReadBuildInfo()
		if ok {
			return bi.GoVersion
		}
		return "unknown"
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version + " (replaced)"
			}
			return m.Version
		}
	}
	return "unknown"
}

// rawPayload is the opaque bytes a raw peer echoes for payload: the n
// bytes of Bytes(n), or a message's protobuf encoding.
func rawPayload(payload string, seed int64) ([]byte, error) {
	v, err := benchmsg.New(payload, seed)
	if err != nil {
		return nil, err
	}
	if b, ok := v.(*benchmsg.Blob); ok {
		return b.Data, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("peers: payload %q (%T) is not a protobuf message", payload, v)
	}
	return proto.Marshal(m)
}

// rawSettings are the settings every raw peer shares.
func rawSettings(kv ...string) map[string]string {
	s := map[string]string{
		"rpc_layer": "none (limit reference)",
		"codec":     "none: opaque bytes (Bytes(n): n bytes; messages: their protobuf encoding)",
		"go":        moduleVersion("std"),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s[kv[i]] = kv[i+1]
	}
	return s
}
