package remote_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/harness/remote"
	"rpcbench/harness/remote/remotetest"
	"rpcbench/harness/spec"
	"rpcbench/transports"
	"rpcbench/wirestats"
)

const testToken = "remote-test-token"

// serve runs the built-in services on tcp, reporting the listener as
// "rpcbench serve" does, bound to every interface.
func serve(t *testing.T) string {
	t.Helper()
	addr := serveOn(t, "tcp", "0.0.0.0:0")
	_, port, _ := strings.Cut(addr, "]:")
	if port == "" {
		_, port, _ = strings.Cut(addr, ":")
	}
	return "127.0.0.1:" + port
}

// serveOn runs the built-in services on transport at addr, reporting the
// listener as "rpcbench serve" does, and returns its address.
func serveOn(t *testing.T, transport, addr string) string {
	return remotetest.Serve(t, transport, addr, testToken)
}

// TestEndpointModes: a QUIC listener serves both client modes, so a
// quic+mux cell runs against a server started as plain quic.
func TestEndpointModes(t *testing.T) {
	addr := serveOn(t, "quic", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := remote.Dial(ctx, "quic://"+addr, remote.Access{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, mode := range []string{"", "stream", "mux"} {
		ep, err := s.Endpoint(spec.Transport{Name: "quic", Mode: mode})
		if err != nil || ep != addr {
			t.Fatalf("quic mode %q: endpoint %q, %v", mode, ep, err)
		}
		mtr, err := transports.New("quic", transports.Options{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		c, err := rpcbench.Dial(ctx, mtr, ep, rpcbench.ClientOptions{Codec: "raw", HeartbeatInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		err = c.Call(ctx, "Echo.Echo", []byte("mode "+mode), &out)
		c.Close()
		if err != nil || string(out) != "mode "+mode {
			t.Fatalf("quic mode %q: %q, %v", mode, out, err)
		}
	}
}

// TestStatsExcludeAdminTraffic checks that the server's byte counters
// between two Stats calls are exactly the bytes the measured connection
// moved, though the admin calls cross the same server's sockets.
func TestStatsExcludeAdminTraffic(t *testing.T) {
	addr := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := remote.Dial(ctx, addr, remote.Access{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info := s.Info()
	if info.Hostname == "" || info.Cores < 1 || info.PID == 0 || len(info.Codecs) == 0 {
		t.Errorf("host %+v", info)
	}
	ep, err := s.Endpoint(spec.Transport{Name: "tcp"})
	if err != nil || ep != addr {
		t.Fatalf("endpoint %q, %v; want %s", ep, err, addr)
	}
	if ep, err := s.Endpoint(spec.Transport{Name: "tcp", Engine: "net"}); err != nil || ep != addr {
		t.Errorf("tcp+net (the default engine): endpoint %q, %v; want %s", ep, err, addr)
	}
	for _, other := range []spec.Transport{{Name: "tcp", Engine: "gnet"}, {Name: "tcp", Workers: true}, {Name: "tcp", TLS: true}, {Name: "quic"}} {
		if _, err := s.Endpoint(other); err == nil || !strings.Contains(err.Error(), "does not serve "+other.String()+" (it serves tcp on ") {
			t.Errorf("mismatched transport %s: %v", other, err)
		}
	}
	if err := s.Check("proto", "zstd"); err != nil {
		t.Error(err)
	}
	if err := s.Check("nosuch", "none"); err == nil {
		t.Error("unknown codec accepted")
	}

	tr, _ := transports.New("tcp", transports.Options{})
	c, err := rpcbench.Dial(ctx, tr, ep, rpcbench.ClientOptions{Codec: "raw", HeartbeatInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w0 := wirestats.Take()
	for i := 0; i < 100; i++ {
		var out []byte
		if err := c.Call(ctx, "Echo.Echo", []byte("0123456789abcdef"), &out); err != nil {
			t.Fatal(err)
		}
	}
	load := wirestats.Take().Sub(w0)
	after, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := after.Snapshot.Sub(before.Snapshot)
	if d.Wire.ServerIn != load.ClientOut || d.Wire.ServerOut != load.ClientIn {
		t.Errorf("server in/out %d/%d bytes, the measured connection moved %d/%d", d.Wire.ServerIn, d.Wire.ServerOut, load.ClientOut, load.ClientIn)
	}
	if after.Calls-before.Calls < 100 || d.CPUUserNs+d.CPUSysNs <= 0 {
		t.Errorf("calls %d, cpu %d ns", after.Calls-before.Calls, d.CPUUserNs+d.CPUSysNs)
	}
}

// TestDialNeedsToken: a server's admin methods refuse a harness without
// their token, and Dial says what to check.
func TestDialNeedsToken(t *testing.T) {
	addr := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, token := range []string{"", "not-" + testToken} {
		s, err := remote.Dial(ctx, addr, remote.Access{Token: token})
		if err == nil {
			s.Close()
			t.Fatalf("token %q accepted", token)
		}
		if !strings.Contains(err.Error(), "--admin-token") || !strings.Contains(err.Error(), "wrong or missing admin token") {
			t.Errorf("token %q: %v", token, err)
		}
	}
}
