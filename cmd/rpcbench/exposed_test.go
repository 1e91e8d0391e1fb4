package main_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRemoteTLS: 'bench --server' over TLS verifies the server: refused
// without --cacert, measured with the certificate 'serve --write-cert'
// wrote, and measured unverified with --skip-verify, which the manifest says.
func TestRemoteTLS(t *testing.T) {
	tmp := t.TempDir()
	cert := filepath.Join(tmp, "server.pem")
	addr := serve(t, nil, "--transport", "tcp", "--tls", "--write-cert", cert, "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cell := []string{"--transport", "tcp", "--tls", "--codec", "proto", "--concurrency", "2", "--warmup", "100ms", "--duration", "300ms", "--progress", "never"}
	bench := func(dir string, extra ...string) ([]byte, error) {
		args := append([]string{"bench", "--server", "tcp+tls://" + addr, "--admin-token", adminToken, "--out", dir}, append(extra, cell...)...)
		return exec.CommandContext(ctx, rpcbenchBinary(t), args...).CombinedOutput()
	}
	if out, err := bench(filepath.Join(tmp, "unverified")); err == nil || !strings.Contains(string(out), "certificate") {
		t.Fatalf("a server certificate nobody vouched for was accepted: %v\n%s", err, out)
	}
	for _, c := range []struct{ name, flag, verify string }{
		{"cacert", "--cacert=" + cert, "--cacert"},
		{"skip-verify", "--skip-verify", "not verified"},
	} {
		dir := filepath.Join(tmp, c.name)
		if out, err := bench(dir, c.flag); err != nil {
			t.Fatalf("%s: %v\n%s", c.flag, err, out)
		}
		run, f := onlyFigures(t, dir)
		if !strings.Contains(run.Manifest.TLSVerify, c.verify) || f.Calls == 0 {
			t.Errorf("%s: manifest tls_verify %q, %d calls", c.flag, run.Manifest.TLSVerify, f.Calls)
		}
	}
}

// TestAdminOffByDefault: a plain 'rpcbench serve' does not answer the
// admin methods, so 'bench --server' against it says what to do.
func TestAdminOffByDefault(t *testing.T) {
	p := startServe(t, nil, "--transport", "tcp", "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, rpcbenchBinary(t), "call", "--addr", p, "Admin.Host", "{}").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown") {
		t.Fatalf("Admin.Host on a plain serve: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, rpcbenchBinary(t), "bench", "--server", p, "--duration", "200ms").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "serve --admin") {
		t.Fatalf("bench --server against a plain serve: %v\n%s", err, out)
	}
}
