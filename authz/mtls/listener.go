package mtls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// LoadClientCAs reads the client CA file (serve --tls-client-ca): one or
// more PEM CERTIFICATE blocks, the trust anchors of tls_client_auth. A
// missing, unreadable or empty file, a file without a certificate, a PEM
// block of another type (a private key pasted by mistake), a certificate
// that does not parse or text outside the blocks is an error naming the
// file and what is wrong with it.
func LoadClientCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no client CA file given", ErrInvalidConfig)
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's --tls-client-ca file
	if err != nil {
		return nil, fmt.Errorf("%w: client CA file: %w", ErrInvalidConfig, err)
	}
	pool, err := ParseClientCAs(data)
	if err != nil {
		return nil, fmt.Errorf("client CA file %s: %w", path, err)
	}
	return pool, nil
}

// ParseClientCAs parses PEM client CA certificates; see LoadClientCAs.
func ParseClientCAs(data []byte) (*x509.CertPool, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalidConfig)
	}
	pool := x509.NewCertPool()
	rest, n := data, 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: PEM block %d is a %q, only CERTIFICATE blocks belong in a client CA file", ErrInvalidConfig, n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d is not a valid X.509 certificate: %w", ErrInvalidConfig, n, err)
		}
		pool.AddCert(cert)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		if n == 0 {
			return nil, fmt.Errorf("%w: no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)", ErrInvalidConfig)
		}
		return nil, fmt.Errorf("%w: unexpected text after the last PEM certificate", ErrInvalidConfig)
	}
	return pool, nil
}

// RequestClientCertificates returns a copy of the public listener's TLS
// configuration that asks every client for a certificate but never requires
// one (tls.RequestClientCert): a browser or a client without a certificate
// still connects, and the certificate, when sent, is checked by the
// application (Authenticator), not by the TLS stack, because
// self_signed_tls_client_auth certificates chain to no CA at all.
//
// advertised, when not nil, names the CAs in the TLS CertificateRequest
// (certificate_authorities). Leave it nil when self-signed clients are
// served: some TLS stacks (Go's among them) send no certificate when their
// issuer is not in a non-empty list.
func RequestClientCertificates(base *tls.Config, advertised *x509.CertPool) *tls.Config {
	var cfg *tls.Config
	if base == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = base.Clone()
	}
	cfg.ClientAuth = tls.RequestClientCert
	cfg.ClientCAs = advertised
	return cfg
}
