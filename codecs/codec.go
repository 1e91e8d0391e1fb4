// Package codecs holds rpcbench's serialization formats and compressors,
// each registered by name and by the one-byte ID that frames carry. IDs
// are part of the wire format and are never reused.
//
//	codec ID  name            implementation
//	1         raw             bytes as they are ([]byte, *benchmsg.Blob)
//	2         json            encoding/json
//	3         binary          hand-written, benchmark messages only (registered by package benchmsg)
//	4         proto           google.golang.org/protobuf
//	5         vtproto         protobuf wire format via planetscale/vtprotobuf code
//	6         fastjson        github.com/goccy/go-json
//	7         msgpack         github.com/vmihailenco/msgpack/v5, structs as arrays (maps by JSON name accepted)
//	8         cbor            github.com/fxamacker/cbor/v2
//	9         gob             encoding/gob, one stream per message (Session: per connection)
//	10        xml             encoding/xml
//	11        flatbuffers     github.com/google/flatbuffers (package codecs/flatbuf)
//	12        thrift-binary   github.com/apache/thrift, binary protocol (package codecs/thriftcodec)
//	13        thrift-compact  github.com/apache/thrift, compact protocol (package codecs/thriftcodec)
//
// Codecs 11 to 13 know only the benchmark messages and live in packages of
// their own, which register them when imported (cmd/rpcbench imports
// them), so that neither this package nor the core depends on their
// libraries. Hessian, which users also weigh, is missing: no Go library
// for it is served by the module proxy here (apache/dubbo-go-hessian2 is
// refused), and a hand-written one would measure rpcbench, not Hessian.
//
//	compression ID  name  implementation
//	0               none
//	1               zstd  klauspost/compress/zstd
//	2               s2    klauspost/compress/s2, block format
//	3               lz4   pierrec/lz4/v4 block behind a size header
//	4               gzip  klauspost/compress/gzip
//
// The benchmark messages (package benchmsg) are the protoc-gen-go types,
// and every codec encodes those same values. This package does not import
// them: the binary codec, which knows only those types, lives and
// registers itself in package benchmsg, so a program that links the
// messages has it, and the core links neither. Unmarshal never keeps a
// reference to its input, and on garbage, truncated input or absurd
// lengths returns an error without panicking or allocating more than the
// input can justify; where a library would not (msgpack, gob), a cheap
// check of the input runs first. Decompress never produces more than its
// limit.
//
// fastjson is goccy/go-json rather than bytedance/sonic: measured here
// (Go 1.26, amd64, Small marshal+unmarshal) go-json took 460 ns and sonic
// 590 ns against encoding/json's 1800 ns; on Medium and Large they were
// within 5% of each other. Sonic decodes slower once it must copy strings
// (its default aliases the input, which the Codec contract forbids), and
// it quietly falls back to encoding/json off amd64/arm64 and on Go
// releases it does not know, so its numbers would depend on the machine.
package codecs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// ids is byID for the per-call lookup, copied on write (codecs are
	// registered at start-up) so that reading it takes no lock.
	ids atomic.Pointer[[256]Codec]
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
	ids := registry.byID
	registry.ids.Store(&ids)
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
	if ids := registry.ids.Load(); ids != nil {
		return ids[id]
	}
	return nil
}

// Names lists the registered codec names in order.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Sorted(maps.Keys(registry.byName))
}
