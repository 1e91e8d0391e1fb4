// Package transports is the registry of rpcbench's transports by name, so
// that the CLI and the harness can choose one from a flag or a spec.
//
// It imports no transport. Each transport registers itself when its
// package is imported, as database/sql drivers do: transports/tcp
// registers "tcp" and "unix", transports/udp "udp", transports/http1
// "http1", transports/quic "quic", transports/nats "nats" and
// transports/amqp "amqp". A program links only what it imports;
// one that chooses among all of them by name imports transports/all.
package transports

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"rpcbench"
	"rpcbench/transports/admit"
	"rpcbench/transports/tlsconf"
)

// Options are the transport settings a user can choose by name; each
// transport reads the ones that concern it and documents its defaults.
type Options struct {
	// Engine selects a server engine where a transport has several
	// (tcp: net|gnet; udp: net|gnet).
	Engine string
	// Mode selects a variant (quic: stream|mux).
	Mode string
	// TLS turns on TLS where it is optional (tcp, http1); QUIC always has it.
	TLS bool
	// TLSConf holds certificates and trust for both sides (see
	// tlsconf.Settings: the zero value is a self-signed server certificate
	// and clients that trust only it).
	TLSConf tlsconf.Settings
	// MaxPayload caps frame payloads (0: the transport's default).
	MaxPayload int
	// Broker is the message broker of the brokered transports
	// (nats://HOST:PORT, amqp://USER:PASSWORD@HOST:PORT): where their
	// listeners given a plain host:port consume requests. nats without one
	// embeds its own server; amqp needs one.
	Broker string
	// Limits bound what servers admit (tcp, unix, http1, quic; zero
	// values: package admit's defaults).
	Limits admit.Limits
}

// TLSConfig is the TLS configuration these options ask for with the given
// ALPN protocols, or nil when TLS is off.
func (o Options) TLSConfig(alpn ...string) (*tls.Config, error) {
	if !o.TLS {
		return nil, nil
	}
	return tlsconf.Load(o.TLSConf, alpn...)
}

// Network returns the kind of socket under t — "tcp", "udp" or "unix" —
// from its optional Network method; transports without one run over TCP.
func Network(t rpcbench.Transport) string {
	if n, ok := t.(interface{ Network() string }); ok {
		return n.Network()
	}
	return "tcp"
}

// Factory builds a transport from options.
type Factory func(Options) (rpcbench.Transport, error)

var registry = struct {
	sync.RWMutex
	m        map[string]Factory
	brokered map[string]bool
}{m: map[string]Factory{}, brokered: map[string]bool{}}

// Register adds a transport factory under name; duplicates panic.
func Register(name string, f Factory) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("transports: duplicate transport " + name)
	}
	registry.m[name] = f
}

// RegisterBrokered adds a brokered transport, one that carries frames
// through a message broker (nats, amqp), under name. Names lists it;
// DirectNames does not.
func RegisterBrokered(name string, f Factory) {
	Register(name, f)
	registry.Lock()
	registry.brokered[name] = true
	registry.Unlock()
}

// Brokered reports whether the transport called name goes through a
// message broker.
func Brokered(name string) bool {
	registry.RLock()
	defer registry.RUnlock()
	return registry.brokered[name]
}

// DirectNames lists the registered transports that connect clients to
// servers directly: every one but the brokered ones.
func DirectNames() []string {
	return slices.DeleteFunc(Names(), Brokered)
}

// New builds the named transport, or returns an error listing the
// registered names (only the transports whose packages are linked).
func New(name string, o Options) (rpcbench.Transport, error) {
	registry.RLock()
	f, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown transport %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return f(o)
}

// Names lists the registered transports.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Sorted(maps.Keys(registry.m))
}
