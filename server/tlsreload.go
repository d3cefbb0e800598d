package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
)

// CertificateReloader serves the TLS certificate and key of two files and
// rereads them on Reload (serve does on SIGHUP), so a renewed certificate
// takes effect without a restart and without dropping connections: new
// handshakes get the new certificate, open connections keep theirs.
type CertificateReloader struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// NewCertificateReloader loads the pair once; an error names what is wrong.
func NewCertificateReloader(certFile, keyFile string) (*CertificateReloader, error) {
	r := &CertificateReloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload rereads the files. On error the previous certificate stays in
// use. It returns the new leaf certificate.
func (r *CertificateReloader) Reload() (*x509.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	cert.Leaf = leaf
	r.current.Store(&cert)
	return leaf, nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertificateReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.current.Load(), nil
}

// ReloadableTLSConfig is TLSConfig whose certificate Reload replaces.
func ReloadableTLSConfig(certFile, keyFile string) (*tls.Config, *CertificateReloader, error) {
	r, err := NewCertificateReloader(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}, r, nil
}
