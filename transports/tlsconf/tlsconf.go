// Package tlsconf builds the TLS configurations rpcbench's transports share:
// certificate and key files for real use, or a self-signed certificate made
// at start-up for loopback benchmarks.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// Load returns a config usable on both sides: the server presents the
// certificate from certFile/keyFile (or a self-signed one when both are
// empty); the client, which cannot know a self-signed certificate in
// advance, skips verification unless certFile is given, in which case it
// trusts exactly that certificate. A certificate without a key gives a
// client-only config. alpn sets NextProtos.
func Load(certFile, keyFile string, alpn ...string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case certFile == "" && keyFile == "":
		cert, err = selfSigned()
	case keyFile == "" && certFile != "":
		return clientOnly(certFile, alpn)
	case certFile == "":
		return nil, fmt.Errorf("tls: a key file needs its certificate file (--cert)")
	default:
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn, MinVersion: tls.VersionTLS12}
	if certFile == "" {
		cfg.InsecureSkipVerify = true // self-signed, loopback benchmarking only
	} else {
		pool := x509.NewCertPool()
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		pool.AddCert(leaf)
		cfg.RootCAs = pool
		if len(leaf.DNSNames) > 0 {
			cfg.ServerName = leaf.DNSNames[0]
		}
	}
	return cfg, nil
}

// clientOnly is the config of a client that trusts exactly the
// certificate in certFile and presents none.
func clientOnly(certFile string, alpn []string) (*tls.Config, error) {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: no certificate found in %s", certFile)
	}
	return &tls.Config{RootCAs: pool, NextProtos: alpn, MinVersion: tls.VersionTLS12}, nil
}

var (
	selfOnce sync.Once
	selfCert tls.Certificate
	selfErr  error
)

// selfSigned makes one ECDSA certificate per process for localhost.
func selfSigned() (tls.Certificate, error) {
	selfOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			selfErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: "rpcbench"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			selfErr = err
			return
		}
		selfCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return selfCert, selfErr
}
