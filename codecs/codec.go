// Package codecs holds rpcbench's serialization formats and compressors,
// each registered by name and by the one-byte ID that frames carry.
package codecs

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Codec turns values into bytes and back. Implementations are safe for
// concurrent use; a codec with per-connection state (gob) provides it
// through Session instead of global state.
type Codec interface {
	// Name is the registry name ("json", "proto", ...).
	Name() string
	// ID is the codec's byte in the frame header. IDs are never reused.
	ID() uint8
	// Marshal appends v's encoding to dst and returns the extended slice,
	// so callers can reuse buffers.
	Marshal(dst []byte, v any) ([]byte, error)
	// Unmarshal decodes data into v, which must be a pointer. It does not
	// retain data after it returns.
	Unmarshal(data []byte, v any) error
}

// Session is implemented by codecs whose encoding depends on what was sent
// before on the same connection. NewSession returns a codec for one
// connection's use; callers must encode and decode in wire order.
type Session interface {
	NewSession() Codec
}

var registry = struct {
	sync.RWMutex
	byName map[string]Codec
	byID   [256]Codec
}{byName: map[string]Codec{}}

// Register adds c to the registry. It panics on a duplicate name or ID,
// because that is a programming error found at start-up.
func Register(c Codec) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.byName[c.Name()]; dup {
		panic(fmt.Sprintf("codecs: duplicate codec name %q", c.Name()))
	}
	if old := registry.byID[c.ID()]; old != nil {
		panic(fmt.Sprintf("codecs: codec %q reuses ID %d of %q", c.Name(), c.ID(), old.Name()))
	}
	registry.byName[c.Name()] = c
	registry.byID[c.ID()] = c
}

// ByName returns the codec registered as name, or an error listing the
// valid names.
func ByName(name string) (Codec, error) {
	registry.RLock()
	c, ok := registry.byName[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("codecs: unknown codec %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return c, nil
}

// ByID returns the codec with the given wire ID, or nil.
func ByID(id uint8) Codec {
	registry.RLock()
	defer registry.RUnlock()
	return registry.byID[id]
}

// Names lists the registered codec names in order.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.byName))
	for n := range registry.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
