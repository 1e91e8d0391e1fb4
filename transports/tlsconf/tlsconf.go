// Package tlsconf builds the TLS configurations rpcbench's transports share:
// certificate and key files for real use, or a self-signed certificate made
// at start-up for loopback benchmarks; clients verify the server unless
// told otherwise, and either side can ask for mutual TLS.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// Settings are the TLS choices a user makes, by file name. The zero value
// is a server presenting a self-signed certificate made at start-up, and a
// client that trusts only that certificate: the one this process made, or
// the one its parent shared through SelfEnv (how the harness trusts the
// server processes it starts).
type Settings struct {
	// Cert and Key are the server's certificate and key files; both empty
	// means self-signed. A client given Cert alone trusts exactly it.
	Cert, Key string
	// CA is a PEM file of certificates the client trusts (for instance one
	// a server wrote with 'rpcbench serve --tls --write-cert'). Empty:
	// Cert if given, else this process's self-signed certificate.
	CA string
	// Insecure makes the client accept any server certificate: an explicit
	// choice (--skip-verify), which a run's manifest records.
	Insecure bool
	// ClientCert and ClientKey are the certificate the client presents
	// (mutual TLS; a client command's --cert and --key).
	ClientCert, ClientKey string
	// ClientCA is a PEM file of certificates a client's certificate must
	// be signed by; when set, the server refuses clients without one.
	ClientCA string
}

// SelfEnv names the environment variable through which a process hands its
// self-signed certificate and key (PEM) to the processes it starts, so that
// its clients can verify their servers without any file.
const SelfEnv = "RPCBENCH_TLS_SELF"

// Load returns a config usable on both sides: the server presents the
// certificate of s (or the self-signed one), and asks for a client
// certificate if s.ClientCA is set; the client verifies the server as s
// says and presents s.ClientCert if the server asks. alpn sets NextProtos.
func Load(s Settings, alpn ...string) (*tls.Config, error) {
	if s.Insecure && s.CA != "" {
		return nil, errors.New("tls: --skip-verify and --cacert contradict each other: give one")
	}
	if (s.ClientCert == "") != (s.ClientKey == "") {
		return nil, errors.New("tls: a client certificate and its key go together (--cert, --key)")
	}
	var cert tls.Certificate
	var err error
	switch {
	case s.Cert == "" && s.Key == "":
		cert, err = selfSigned()
	case s.Key == "":
		return clientOnly(s, alpn)
	case s.Cert == "":
		return nil, fmt.Errorf("tls: a key file needs its certificate file (--cert)")
	default:
		cert, err = tls.LoadX509KeyPair(s.Cert, s.Key)
	}
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn, MinVersion: tls.VersionTLS12}
	if s.CA == "" {
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AddCert(leaf)
		if s.Cert != "" && len(leaf.DNSNames) > 0 {
			cfg.ServerName = leaf.DNSNames[0]
		}
	}
	if err := s.client(cfg); err != nil {
		return nil, err
	}
	if s.ClientCA != "" {
		if cfg.ClientCAs, err = pool(s.ClientCA); err != nil {
			return nil, err
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// clientOnly is the config of a client that trusts exactly the
// certificate in s.Cert.
func clientOnly(s Settings, alpn []string) (*tls.Config, error) {
	cfg := &tls.Config{NextProtos: alpn, MinVersion: tls.VersionTLS12}
	var err error
	if cfg.RootCAs, err = pool(s.Cert); err != nil {
		return nil, err
	}
	return cfg, s.client(cfg)
}

// client sets the client side of cfg: trust, verification, and the
// certificate presented (never the server's own, which crypto/tls would
// otherwise offer from Certificates).
func (s Settings) client(cfg *tls.Config) error {
	if s.CA != "" {
		var err error
		if cfg.RootCAs, err = pool(s.CA); err != nil {
			return err
		}
	}
	cfg.InsecureSkipVerify = s.Insecure
	var mine tls.Certificate
	if s.ClientCert != "" {
		var err error
		if mine, err = tls.LoadX509KeyPair(s.ClientCert, s.ClientKey); err != nil {
			return fmt.Errorf("tls: client certificate: %w", err)
		}
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &mine, nil }
	return nil
}

// pool reads the PEM certificates in file.
func pool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls: no certificate found in %s", file)
	}
	return p, nil
}

// ForAddr returns cfg ready to dial addr ("host:port"): a verifying
// client with no ServerName checks the certificate against the host
// dialled, as a browser would.
func ForAddr(cfg *tls.Config, addr string) *tls.Config {
	if cfg == nil || cfg.ServerName != "" || cfg.InsecureSkipVerify {
		return cfg
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	c := cfg.Clone()
	c.ServerName = host
	return c
}

// CertPEM returns, PEM-encoded, the certificate a server with s presents:
// what its clients give as CA ('rpcbench serve --tls --write-cert').
func CertPEM(s Settings) ([]byte, error) {
	var cert tls.Certificate
	var err error
	if s.Cert == "" && s.Key == "" {
		cert, err = selfSigned()
	} else {
		cert, err = tls.LoadX509KeyPair(s.Cert, s.Key)
	}
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), nil
}

// SelfEnvEntry returns "SelfEnv=PEM" with this process's self-signed
// certificate and key, for the environment of a server process this one
// starts and then dials: the child presents the certificate its parent's
// clients already trust. The key is an ephemeral one for loopback
// benchmarking; the environment is readable only by the same user.
func SelfEnvEntry() (string, error) {
	cert, err := selfSigned()
	if err != nil {
		return "", err
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return "", err
	}
	return SelfEnv + "=" + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})), nil
}

var (
	selfOnce sync.Once
	selfCert tls.Certificate
	selfErr  error
)

// selfSigned returns the process's self-signed certificate: its parent's
// (SelfEnv), else one ECDSA certificate made once for localhost, the
// host's name and its addresses.
func selfSigned() (tls.Certificate, error) {
	selfOnce.Do(func() {
		if shared := os.Getenv(SelfEnv); shared != "" {
			selfCert, selfErr = tls.X509KeyPair([]byte(shared), []byte(shared))
			if selfErr != nil {
				selfErr = fmt.Errorf("$%s: %w", SelfEnv, selfErr)
			}
			return
		}
		selfCert, selfErr = makeSelfSigned()
	})
	return selfCert, selfErr
}

func makeSelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "rpcbench"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	// The host's own names too, so that a client on another host given
	// this certificate (--cacert) can verify the server it dials.
	if h, err := os.Hostname(); err == nil && h != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, n.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
