package brokered

import (
	"strings"
	"testing"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "nats://127.0.0.1:4222", want: "nats://127.0.0.1:4222/rpcbench"},
		{in: "nats://127.0.0.1:4222/", want: "nats://127.0.0.1:4222/rpcbench"},
		{in: "nats://h:1/svc.echo", want: "nats://h:1/svc.echo"},
		{in: "amqp://guest:guest@[::1]:5672/q", want: "amqp://guest:guest@[::1]:5672/q"},
		{in: "tcp://h:1", err: "want nats:// or amqp://"},
		{in: "127.0.0.1:4222", err: "want nats:// or amqp://"},
		{in: "nats://h", err: "want HOST:PORT"},
		{in: "nats://h:0", err: "bad port"},
		{in: "nats://h:1/a?x=1", err: "nothing after the service"},
		{in: "nats://h:1/a.*", err: "only letters"},
		{in: "nats://h:1/a..b", err: "empty dot-separated part"},
	} {
		a, err := ParseAddr(tc.in, "nats", "amqp")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAddr(%q) = %v, want an error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || a.String() != tc.want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", tc.in, a, err, tc.want)
		}
	}
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222/rpcbench", "amqp://u:p@h:5672/q", "nats://h:1/a.b", "x://", "nats://[::1]:9/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s, "nats", "amqp")
		if err != nil {
			return
		}
		b, err := ParseAddr(a.String(), "nats", "amqp")
		if err != nil || b != a {
			t.Fatalf("%q parsed to %q, which parses to %q, %v", s, a, b, err)
		}
	})
}
