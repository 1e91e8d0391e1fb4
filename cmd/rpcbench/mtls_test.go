package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, both signed by the CA, into dir: ca.pem, server.pem,
// server.key, client.pem, client.key.
func pki(t *testing.T, dir string) {
	t.Helper()
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key := func(name string) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if name != "" {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			write(name, "PRIVATE KEY", der)
		}
		return k
	}
	now := time.Now()
	caKey := key("")
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, leaf := range []struct {
		name string
		use  x509.ExtKeyUsage
	}{{"server", x509.ExtKeyUsageServerAuth}, {"client", x509.ExtKeyUsageClientAuth}} {
		k := key(leaf.name + ".key")
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: leaf.name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{leaf.use}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		write(leaf.name+".pem", "CERTIFICATE", der)
	}
}

// TestMutualTLS: 'serve --client-ca' refuses a client without a
// certificate the CA signed and answers one with it; so does 'registry
// --client-ca' for registry clients.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pki(t, dir)
	f := func(name string) string { return filepath.Join(dir, name) }
	server := []string{"--tls", "--cert", f("server.pem"), "--key", f("server.key"), "--client-ca", f("ca.pem"), "--addr", "127.0.0.1:0"}
	addr := startServe(t, nil, append([]string{"--transport", "tcp"}, server...)...)
	call := []string{"call", "--transport", "tcp", "--tls", "--cacert", f("ca.pem"), "--addr", addr}
	if out, errOut, code := runBinary(t, append(call, "Arith.Add", `{"a":1,"b":2}`)...); code == 0 {
		t.Errorf("serve --client-ca answered a client without a certificate: %q %q", out, errOut)
	}
	if out, errOut, code := runBinary(t, append(call, "--cert", f("client.pem"), "--key", f("client.key"), "Arith.Add", `{"a":1,"b":2}`)...); code != 0 || strings.TrimSpace(out) != `{"sum":3}` {
		t.Errorf("with the client certificate: exit %d, %q %q", code, out, errOut)
	}

	reg, _ := startLine(t, append([]string{"registry"}, server...)...)
	url := "rpcbench://" + reg + "?tls=1&cacert=" + f("ca.pem")
	if out, errOut, code := runBinary(t, "registry", "list", "--timeout", "3s", "--registry", url); code == 0 {
		t.Errorf("registry --client-ca served a client without a certificate: %q %q", out, errOut)
	}
	if out, errOut, code := runBinary(t, "registry", "list", "--registry", url+"&cert="+f("client.pem")+"&key="+f("client.key")); code != 0 || !strings.Contains(out, "no services registered") {
		t.Errorf("registry with the client certificate: exit %d, %q %q", code, out, errOut)
	}
}

// TestRegistryTokenOffLoopback: a registry listening beyond loopback
// makes up a token and refuses clients without it.
func TestRegistryTokenOffLoopback(t *testing.T) {
	reg, output := startLine(t, "registry", "--addr", "0.0.0.0:0")
	_, port, err := net.SplitHostPort(reg)
	if err != nil {
		t.Fatal(err)
	}
	_, token, ok := strings.Cut(output(), "registry token ")
	token, _, _ = strings.Cut(token, " ")
	if !ok || token == "" {
		t.Fatalf("no token printed: %q", output())
	}
	list := func(token string) (string, string, int) {
		cmd := exec.Command(rpcbenchBinary(t), "registry", "list", "--timeout", "3s", "--registry", "rpcbench://127.0.0.1:"+port)
		cmd.Env = append(os.Environ(), "RPCBENCH_REGISTRY_TOKEN="+token)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}
	if out, errOut, code := list(""); code == 0 {
		t.Errorf("a registry on 0.0.0.0 served a client without its token: %q %q", out, errOut)
	}
	if out, errOut, code := list(token); code != 0 || !strings.Contains(out, "no services registered") {
		t.Errorf("with the token: exit %d, %q %q", code, out, errOut)
	}
}
