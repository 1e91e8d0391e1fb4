package brokered

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultService is the service name of an address without one.
const DefaultService = "rpcbench"

// Addr is a broker and a service on it. It implements net.Addr: a
// listener's Addr is what its clients dial.
type Addr struct {
	Scheme string // "nats", "amqp"
	// User is "name" or "name:password", as in the URL; empty for none.
	User    string
	Host    string // host:port
	Service string // the request subject or queue
}

// ParseAddr parses SCHEME://[USER[:PASSWORD]@]HOST:PORT[/SERVICE] whose
// scheme is one of schemes.
func ParseAddr(s string, schemes ...string) (Addr, error) {
	var a Addr
	for _, sc := range schemes {
		if strings.HasPrefix(s, sc+"://") {
			a.Scheme = sc
		}
	}
	if a.Scheme == "" {
		return Addr{}, fmt.Errorf("broker address %q: want %s://HOST:PORT[/SERVICE]", s, strings.Join(schemes, ":// or "))
	}
	u, err := url.Parse(s)
	if err != nil {
		return Addr{}, fmt.Errorf("broker address %q: %v", s, err)
	}
	if u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return Addr{}, fmt.Errorf("broker address %q: want %s://HOST:PORT[/SERVICE], nothing after the service", s, a.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return Addr{}, fmt.Errorf("broker address %q: want HOST:PORT after %s://", s, a.Scheme)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return Addr{}, fmt.Errorf("broker address %q: bad port %q", s, port)
	}
	a.Host = u.Host
	if u.User != nil {
		a.User = u.User.String()
	}
	a.Service = strings.TrimPrefix(u.Path, "/")
	if a.Service == "" {
		a.Service = DefaultService
	}
	if err := checkService(a.Service); err != nil {
		return Addr{}, fmt.Errorf("broker address %q: %v", s, err)
	}
	return a, nil
}

// checkService accepts names that are valid both as a NATS subject and as
// an AMQP queue: letters, digits and "-_.", not starting or ending with a
// dot and without empty tokens.
func checkService(s string) error {
	if len(s) > 200 {
		return fmt.Errorf("service name longer than 200 bytes")
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" {
			return fmt.Errorf("service %q has an empty dot-separated part", s)
		}
		for _, c := range tok {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("service %q: only letters, digits, '-', '_' and '.' are allowed", s)
			}
		}
	}
	return nil
}

// Network implements net.Addr.
func (a Addr) Network() string { return a.Scheme }

// String is the address in the form ParseAddr reads.
func (a Addr) String() string { return a.Broker() + a.Service }

// Broker is the broker's URL without the service: SCHEME://[USER@]HOST/.
func (a Addr) Broker() string {
	u := a.Scheme + "://"
	if a.User != "" {
		u += a.User + "@"
	}
	return u + a.Host + "/"
}

// RefuseOptions says which of the registry's transport options a brokered
// transport called name does not take: a server engine and TLS (the
// broker connection is plain; the broker's TLS is not supported).
func RefuseOptions(name, engine string, tls bool) error {
	switch {
	case engine != "":
		return fmt.Errorf("%s: no server engines (--engine is for tcp and udp)", name)
	case tls:
		return fmt.Errorf("%s: no TLS to the broker; leave out --tls", name)
	}
	return nil
}
