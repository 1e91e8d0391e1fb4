package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench/harness/results"
)

// A user's message as the payload of cells against a server on another
// host: 'serve --echo-protoset' given the .proto echoes it, and the cell
// runs with the server's costs read through its admin methods; a server
// started without it leaves the cell skipped, saying how to start it.
func TestRemoteProtoPayload(t *testing.T) {
	const proto = "../../targets/greeter/greetpb/greet.proto"
	data := filepath.Join(t.TempDir(), "hello.json")
	if err := os.WriteFile(data, []byte(`{"name":"Ann","times":3,"tags":["a"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	payload := "proto(" + proto + ":greet.v1.HelloRequest, " + data + ")"
	echoing := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0", "--echo-protoset", proto, "--echo-message", "greet.v1.HelloRequest")
	plain := serve(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, addr := range []string{echoing, plain} {
		dir := filepath.Join(t.TempDir(), "run")
		rpcbench(t, ctx, nil, "bench", "--server", addr, "--admin-token", adminToken, "--out", dir, "--progress", "never",
			"--transport", "tcp", "--codec", "proto", "--payload", payload, "--concurrency", "2", "--warmup", "100ms", "--duration", "300ms")
		if addr == echoing {
			_, f := onlyFigures(t, dir)
			checkServerCosts(t, f)
			continue
		}
		run, err := results.Read(filepath.Join(dir, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		if c := run.Cells[0]; c.Status != results.StatusSkipped || !strings.Contains(c.SkipReason, "--echo-protoset "+proto+" --echo-message greet.v1.HelloRequest") {
			t.Errorf("against a server that does not echo the message: %s %q", c.Status, c.SkipReason)
		}
	}
	_, errOut, code := runBinary(t, "serve", "--echo-protoset", proto)
	if code != 2 || !strings.Contains(errOut, "go together") {
		t.Errorf("--echo-protoset alone: exit %d, %q", code, errOut)
	}
}
