package grpctarget_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"rpcbench/harness/load"
	"rpcbench/targets"
	"rpcbench/targets/greeter"
	"rpcbench/targets/greeter/greetpb"
	"rpcbench/targets/grpctarget"
	"rpcbench/targets/targettest"
)

const protoFile = "../greeter/greetpb/greet.proto"

// startGreeter serves the example service with reflection (or without).
func startGreeter(t *testing.T, reflect bool) (*greeter.Service, string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &greeter.Service{Record: true}
	var gs *grpc.Server
	if reflect {
		gs = greeter.ServeGRPC(s, ln)
	} else {
		gs = grpc.NewServer()
		greetpb.RegisterGreeterServer(gs, s)
		go gs.Serve(ln)
	}
	t.Cleanup(gs.Stop)
	return s, ln.Addr().String(), gs.Stop
}

func TestReflectionCallsWithDataAndMetadata(t *testing.T) {
	s, addr, _ := startGreeter(t, true)
	dir := t.TempDir()
	file := filepath.Join(dir, "data.json")
	os.WriteFile(file, []byte(`{"name":"ann","tags":["a"]}`+"\n"+`{"name":"bob","times":2}`+"\n"), 0o644)
	tgt, err := grpctarget.Open(context.Background(), targets.Def{
		URL: "grpc://" + addr, Call: "greet.v1.Greeter/SayHello", Data: "@" + file, Metadata: map[string]string{"tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	res := targettest.Run(t, tgt, load.Options{Workers: 4, Calls: 400})
	if res.Rec.ErrorCount() != 0 || res.Rec.Latency.Count() != 400 {
		t.Fatalf("calls %d ok, errors %v", res.Rec.Latency.Count(), res.Rec.Errors)
	}
	names := s.Names()
	// 400 measured calls plus Open's and Verify's checks, both lines sent evenly.
	if names["ann"]+names["bob"] != int(s.Calls()) || names["ann"] < 190 || names["bob"] < 190 {
		t.Fatalf("names %v of %d calls", names, s.Calls())
	}
	for _, md := range s.Metadata() {
		if got := md.Get("tenant"); len(got) != 1 || got[0] != "t1" {
			t.Fatalf("metadata %v", md)
		}
	}
}

func TestTemplatesRenderPerCall(t *testing.T) {
	s, addr, _ := startGreeter(t, true)
	tgt, err := grpctarget.Open(context.Background(), targets.Def{
		URL: "grpc://" + addr, Call: "greet.v1.Greeter.SayHello", Proto: []string{protoFile},
		Data: `{"name":"u{{.RequestNumber}}-w{{.WorkerID}}-{{randomString 6}}","times":{{randomInt 1 4}}}`})
	if err != nil {
		t.Fatal(err)
	}
	targettest.Run(t, tgt, load.Options{Workers: 2, Calls: 100})
	names := s.Names()
	if len(names) < 100 {
		t.Fatalf("%d distinct names for %d calls: templates not rendered per call", len(names), s.Calls())
	}
	for n := range names {
		if !strings.HasPrefix(n, "u") || !strings.Contains(n, "-w") || len(n[strings.LastIndexByte(n, '-')+1:]) != 6 {
			t.Fatalf("name %q not rendered from the template", n)
		}
	}
}

func TestBadInputFailsBeforeLoad(t *testing.T) {
	_, addr, _ := startGreeter(t, true)
	_, plain, _ := startGreeter(t, false)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	bad := filepath.Join(t.TempDir(), "bad.proto")
	os.WriteFile(bad, []byte("syntax = \"proto3\";\nmessage A {\n  string x = ;\n}\n"), 0o644)
	for _, c := range []struct {
		name string
		def  targets.Def
		want string
	}{
		{"unknown service", targets.Def{Call: "greet.v1.Nope/SayHello"}, "services: greet.v1.Greeter"},
		{"unknown method", targets.Def{Call: "greet.v1.Greeter/Bye"}, "methods: SayHello"},
		{"bad field", targets.Def{Call: "greet.v1.Greeter/SayHello", Data: `{"nmae":"x"}`}, `unknown field "nmae"`},
		{"bad value", targets.Def{Call: "greet.v1.Greeter/SayHello", Data: `{"times":"x"}`}, "times"},
		{"bad proto", targets.Def{Call: "greet.v1.Greeter/SayHello", Proto: []string{bad}}, "bad.proto:3:"},
		{"no reflection", targets.Def{URL: "grpc://" + plain, Call: "greet.v1.Greeter/SayHello"}, "no reflection service"},
		{"unreachable", targets.Def{URL: "grpc://" + deadAddr, Call: "greet.v1.Greeter/SayHello"}, "unreachable"},
		{"tls to plain server", targets.Def{URL: "grpcs://" + addr, Call: "greet.v1.Greeter/SayHello", Proto: []string{protoFile}, SkipVerify: true}, "TLS handshake failed"},
		{"server rejects", targets.Def{Call: "greet.v1.Greeter/SayHello", Data: `{"name":""}`}, "grpc_invalid_argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.def.URL == "" {
				c.def.URL = "grpc://" + addr
			}
			start := time.Now()
			_, err := grpctarget.Open(context.Background(), c.def)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, c.want)
			}
			t.Log(err)
			if time.Since(start) > grpctarget.DialTimeout+time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestServerDiesMidRun(t *testing.T) {
	s, addr, stop := startGreeter(t, true)
	tgt, err := grpctarget.Open(context.Background(), targets.Def{URL: "grpc://" + addr, Call: "greet.v1.Greeter/SayHello", Data: `{"name":"x"}`})
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
	if res.Rec.Latency.Count() < 40 || res.Rec.Errors["grpc_unavailable"] == 0 {
		t.Fatalf("ok %d, errors %v", res.Rec.Latency.Count(), res.Rec.Errors)
	}
}
