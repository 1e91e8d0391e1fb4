package all_test

import (
	"slices"
	"strings"
	"testing"

	"rpcbench/transports"
	_ "rpcbench/transports/all"
)

// names are every transport name of rpcbench, sorted.
var names = []string{"amqp", "http1", "nats", "quic", "tcp", "udp", "unix"}

// Every transport registers itself once its package is linked, and each
// registered name builds with default options.
func TestAllRegistered(t *testing.T) {
	if got := transports.Names(); !slices.Equal(got, names) {
		t.Fatalf("transports.Names() = %v, want %v", got, names)
	}
	for _, name := range names {
		tr, err := transports.New(name, transports.Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tr.Name() == "" {
			t.Errorf("%s: transport has no name", name)
		}
	}
	_, err := transports.New("nosuch", transports.Options{})
	if err == nil || !strings.Contains(err.Error(), strings.Join(names, ", ")) {
		t.Errorf("an unknown name: got %v, want an error listing %v", err, names)
	}
	direct := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "amqp" || n == "nats" })
	if got := transports.DirectNames(); !slices.Equal(got, direct) {
		t.Errorf("transports.DirectNames() = %v, want %v", got, direct)
	}
}

// TLS where a transport offers it, a clear error where it cannot.
func TestTLSOption(t *testing.T) {
	for name, ok := range map[string]bool{"tcp": true, "unix": true, "http1": true, "quic": true, "udp": false, "nats": false, "amqp": false} {
		_, err := transports.New(name, transports.Options{TLS: true})
		if ok && err != nil {
			t.Errorf("%s+tls: %v", name, err)
		}
		if !ok && err == nil {
			t.Errorf("%s+tls built a transport", name)
		}
	}
}
