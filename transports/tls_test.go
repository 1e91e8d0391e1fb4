package transports_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rpcbench"
	"rpcbench/transports"
	_ "rpcbench/transports/all" // the tests choose transports by name
	"rpcbench/transports/tlsconf"
)

// TestTLSVerification checks, over real sockets, that a client verifies
// the server by default, trusts what --cacert names, skips verification
// only when told (--insecure), and that a server with --client-ca refuses
// clients without a certificate it signed.
func TestTLSVerification(t *testing.T) {
	dir := t.TempDir()
	serverCA := newCA(t, dir, "server-ca")
	clientCA := newCA(t, dir, "client-ca")
	serverCert, serverKey := serverCA.issue(t, "server", false)
	clientCert, clientKey := clientCA.issue(t, "client", true)
	strangerCert, strangerKey := serverCA.issue(t, "stranger", true) // signed, but not by the client CA

	server := tlsconf.Settings{Cert: serverCert, Key: serverKey}
	mutual := tlsconf.Settings{Cert: serverCert, Key: serverKey, ClientCA: clientCA.cert}
	cases := []struct {
		name           string
		server, client tlsconf.Settings
		ok             bool
		why            string
	}{
		{"default client, unknown server", server, tlsconf.Settings{}, false, "certificate"},
		{"cacert", server, tlsconf.Settings{CA: serverCA.cert}, true, ""},
		{"wrong cacert", server, tlsconf.Settings{CA: clientCA.cert}, false, "certificate"},
		{"insecure", server, tlsconf.Settings{Insecure: true}, true, ""},
		{"mutual, no client certificate", mutual, tlsconf.Settings{CA: serverCA.cert}, false, "certificate"},
		{"mutual, client certificate from another CA", mutual, tlsconf.Settings{CA: serverCA.cert, ClientCert: strangerCert, ClientKey: strangerKey}, false, "certificate"},
		{"mutual, client certificate", mutual, tlsconf.Settings{CA: serverCA.cert, ClientCert: clientCert, ClientKey: clientKey}, true, ""},
	}
	for _, name := range []string{"tcp", "http1", "quic"} {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				err := callOnce(t, name, c.server, c.client)
				if c.ok && err != nil {
					t.Fatalf("refused: %v", err)
				}
				// http1's pool sees a refused client certificate as the
				// connection closing (EOF), not as the TLS alert.
				why := c.why
				if name == "http1" && c.server.ClientCA != "" {
					why = "EOF"
				}
				if !c.ok && (err == nil || !strings.Contains(err.Error(), why)) {
					t.Fatalf("got %v, want a failure mentioning %q", err, why)
				}
			})
		}
	}
}

// TestTLSRefusedWhereUnsupported: the gnet engine and UDP say clearly
// that they have no TLS.
func TestTLSRefusedWhereUnsupported(t *testing.T) {
	for _, c := range []struct{ name, engine, want string }{
		{"tcp", "gnet", "gnet engine does not support TLS"},
		{"udp", "", "no TLS"},
		{"udp", "gnet", "no TLS"},
	} {
		_, err := transports.New(c.name, transports.Options{Engine: c.engine, TLS: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s engine %q with TLS: %v, want %q", c.name, c.engine, err, c.want)
		}
	}
}

func TestTLSSettingsChecked(t *testing.T) {
	for _, s := range []tlsconf.Settings{
		{Insecure: true, CA: "x.pem"},
		{ClientCert: "c.pem"},
		{ClientKey: "k.pem"},
		{Key: "k.pem"},
		{CA: "/nonexistent.pem"},
	} {
		if _, err := tlsconf.Load(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

// callOnce serves Echo.Echo on transport name with server's TLS settings
// and makes one call with client's.
func callOnce(t *testing.T, name string, server, client tlsconf.Settings) error {
	t.Helper()
	st, err := transports.New(name, transports.Options{TLS: true, TLSConf: server})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpcbench.NewServer(rpcbench.ServerOptions{Logf: func(string, ...any) {}})
	if err := srv.HandleRaw("Echo.Echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }); err != nil {
		t.Fatal(err)
	}
	l, err := st.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	ct, err := transports.New(name, transports.Options{TLS: true, TLSConf: client})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpcbench.Dial(ctx, ct, l.Addr().String(), rpcbench.ClientOptions{Codec: "raw", HeartbeatInterval: -1})
	if err != nil {
		return err
	}
	defer c.Close()
	var out []byte
	if err := c.Call(ctx, "Echo.Echo", []byte("hello"), &out); err != nil {
		return err
	}
	if string(out) != "hello" {
		t.Fatalf("echo %q", out)
	}
	return nil
}

// testCA is a certificate authority made for one test, its certificate
// written to cert.
type testCA struct {
	dir, cert string
	tmpl      *x509.Certificate
	key       *ecdsa.PrivateKey
}

func newCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca := &testCA{dir: dir, cert: filepath.Join(dir, name+".pem"), tmpl: tmpl, key: key}
	writePEM(t, ca.cert, "CERTIFICATE", der)
	return ca
}

// issue signs a certificate for 127.0.0.1 (a client one if client) and
// returns its certificate and key files.
func (ca *testCA) issue(t *testing.T, name string, client bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.tmpl, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", pk)
	return certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
