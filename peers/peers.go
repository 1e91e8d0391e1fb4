package peers

import (
	"fmt"
	"maps"
	"runtime/debug"
	"slices"

	"google.golang.org/protobuf/proto"

	"rpcbench/codecs/benchmsg"
	"rpcbench/target"
)

// all holds every peer by name. Each peer's file adds itself in an init
// function of this package, so the set is complete before any importer
// runs: it does not depend on what else the binary links.
var all = map[string]target.Peer{}

// add puts p in the set under name; duplicates and incomplete peers panic.
func add(name string, p target.Peer) {
	if _, dup := all[name]; dup || p.Serve == nil || p.NewTarget == nil {
		panic(fmt.Sprintf("peers: %q added twice or incomplete", name))
	}
	all[name] = p
}

// Lookup returns the peer called name. Safe for concurrent use.
func Lookup(name string) (target.Peer, bool) {
	p, ok := all[name]
	return p, ok
}

// Names lists the peers, sorted. Safe for concurrent use.
func Names() []string { return slices.Sorted(maps.Keys(all)) }

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
