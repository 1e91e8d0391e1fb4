package targets

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSConfig builds the client TLS settings of d for serverName: the
// system's roots, or d.CACert's; a client certificate from d.Cert and
// d.Key; no verification with d.SkipVerify.
func TLSConfig(serverName string, d Def) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName, InsecureSkipVerify: d.SkipVerify, MinVersion: tls.VersionTLS12}
	if d.CACert != "" {
		pem, err := os.ReadFile(d.CACert)
		if err != nil {
			return nil, fmt.Errorf("targets: --cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("targets: --cacert %s holds no PEM certificate", d.CACert)
		}
		cfg.RootCAs = pool
	}
	if (d.Cert == "") != (d.Key == "") {
		return nil, fmt.Errorf("targets: give --cert and --key together")
	}
	if d.Cert != "" {
		c, err := tls.LoadX509KeyPair(d.Cert, d.Key)
		if err != nil {
			return nil, fmt.Errorf("targets: --cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}
