package httptarget_test

import (
	"context"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/load"
	"rpcbench/targets"
	"rpcbench/targets/greeter"
	"rpcbench/targets/httptarget"
	"rpcbench/targets/targettest"
)

func startHTTP(t *testing.T) (*greeter.Service, string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &greeter.Service{Record: true}
	hs := greeter.ServeHTTP(s, ln)
	t.Cleanup(func() { hs.Close() })
	return s, ln.Addr().String(), func() { hs.Close() }
}

func TestPostsBodiesAndHeaders(t *testing.T) {
	s, addr, _ := startHTTP(t)
	file := filepath.Join(t.TempDir(), "bodies.json")
	os.WriteFile(file, []byte(`[{"name":"ann"},{"name":"bob"},{"name":""}]`), 0o644)
	tgt, err := httptarget.Open(context.Background(), targets.Def{URL: "http://" + addr + greeter.HTTPPath,
		Data: "@" + file, Headers: map[string]string{"Content-Type": "application/json", "X-Tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	res := targettest.Run(t, tgt, load.Options{Workers: 3, Calls: 300})
	names := s.Names()
	// The empty name is rejected by the service with 400: a third of the
	// calls fail, counted by status.
	if names["ann"] < 95 || names["bob"] < 95 || res.Rec.Errors["http_400"] < 95 || res.Rec.Latency.Count() < 190 {
		t.Fatalf("names %v, ok %d, errors %v", names, res.Rec.Latency.Count(), res.Rec.Errors)
	}
	for _, md := range s.Metadata() {
		if v := md.Get("x-tenant"); len(v) != 1 || v[0] != "t1" {
			t.Fatalf("headers %v", md)
		}
	}
}

func TestHTTPSAndBadInput(t *testing.T) {
	s := &greeter.Service{}
	ts := httptest.NewTLSServer(greeter.HTTPHandler(s))
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644)
	_, plain, _ := startHTTP(t)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	tgt, err := httptarget.Open(context.Background(), targets.Def{URL: ts.URL + greeter.HTTPPath, Data: `{"name":"tls"}`, CACert: ca})
	if err != nil {
		t.Fatal(err)
	}
	if res := targettest.Run(t, tgt, load.Options{Workers: 2, Calls: 50}); res.Rec.Latency.Count() != 50 || s.Calls() < 50 {
		t.Fatalf("https: ok %d, served %d", res.Rec.Latency.Count(), s.Calls())
	}
	for _, c := range []struct {
		name string
		def  targets.Def
		want string
	}{
		{"untrusted certificate", targets.Def{URL: ts.URL + greeter.HTTPPath, Data: `{"name":"x"}`}, "TLS handshake failed"},
		{"tls to plain server", targets.Def{URL: "https://" + plain + greeter.HTTPPath, Data: `{"name":"x"}`, SkipVerify: true}, "TLS handshake failed"},
		{"not found", targets.Def{URL: "http://" + plain + "/nope", Data: `{"name":"x"}`}, "returned 404"},
		{"rejected", targets.Def{URL: "http://" + plain + greeter.HTTPPath, Data: `{"nmae":"x"}`}, "returned 400"},
		{"unreachable", targets.Def{URL: "http://" + deadAddr + "/", Data: "x"}, "unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := httptarget.Open(context.Background(), c.def)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, c.want)
			}
		})
	}
}

func TestServerDiesMidRun(t *testing.T) {
	s, addr, stop := startHTTP(t)
	tgt, err := httptarget.Open(context.Background(), targets.Def{URL: "http://" + addr + greeter.HTTPPath, Data: `{"name":"x"}`})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for s.Calls() < 50 {
			time.Sleep(time.Millisecond)
		}
		stop()
	}()
	res := targettest.Run(t, tgt, load.Options{Workers: 2, Duration: time.Second})
	failed := res.Rec.ErrorCount()
	if res.Rec.Latency.Count() < 40 || failed == 0 {
		t.Fatalf("ok %d, errors %v", res.Rec.Latency.Count(), res.Rec.Errors)
	}
	for code := range res.Rec.Errors {
		if !strings.HasPrefix(code, "http_") {
			t.Fatalf("error code %q not the target's", code)
		}
	}
}
