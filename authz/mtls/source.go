package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Where a ClientCertificate came from.
const (
	SourceTLS    = "tls"    // the TLS connection Strongroom terminated
	SourceHeader = "header" // the header a trusted proxy set
)

// ClientCertificate is the certificate a client presented, with the
// intermediates it sent along. Nothing about it is verified yet.
type ClientCertificate struct {
	// Leaf is the client's own certificate.
	Leaf *x509.Certificate
	// Intermediates are the other certificates the client (or the proxy)
	// sent, in the order received; they help build a chain to a client CA
	// and are never trusted by themselves.
	Intermediates []*x509.Certificate
	// Source is SourceTLS or SourceHeader, for logs.
	Source string
}

// CertificateSource finds the certificate a client presented: on the TLS
// connection, or in a header set by a trusted TLS-terminating proxy. Build it
// with NewCertificateSource; the zero value reads the connection only.
type CertificateSource struct {
	header  string
	trusted []netip.Prefix
}

// NewCertificateSource returns a source that reads the header named header
// (serve --client-cert-header; empty: no proxy forwards certificates) from
// peers in trusted (serve --trusted-proxy, as web.ParseTrustedProxies
// returns them). A header without trusted proxies is refused: it could never
// be believed, and it would silently do nothing.
func NewCertificateSource(header string, trusted []netip.Prefix) (*CertificateSource, error) {
	header = strings.TrimSpace(header)
	if header != "" && !httpguts.ValidHeaderFieldName(header) {
		return nil, fmt.Errorf("%w: client certificate header %q is not a valid HTTP header name", ErrInvalidConfig, header)
	}
	if header != "" && len(trusted) == 0 {
		return nil, fmt.Errorf("%w: client certificate header %q needs at least one trusted proxy to believe it from", ErrInvalidConfig, header)
	}
	for _, p := range trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: invalid trusted proxy prefix", ErrInvalidConfig)
		}
	}
	return &CertificateSource{header: http.CanonicalHeaderKey(header), trusted: append([]netip.Prefix(nil), trusted...)}, nil
}

// Header is the canonical name of the certificate header, or "" when none
// is configured.
func (s *CertificateSource) Header() string {
	if s == nil {
		return ""
	}
	return s.header
}

// Presented is what a lookup found.
type Presented struct {
	// Certificate is the client's certificate, or nil when it presented
	// none.
	Certificate *ClientCertificate
	// IgnoredHeaderFrom is the peer address of a request that carried the
	// certificate header although the peer is not a trusted proxy: the
	// header was ignored, and the caller should log it (a misconfigured
	// proxy, or a client trying to claim someone else's certificate).
	// Empty otherwise.
	IgnoredHeaderFrom string
}

// FromRequest is Lookup for an *http.Request.
func (s *CertificateSource) FromRequest(r *http.Request) (Presented, error) {
	return s.Lookup(r.TLS, r.RemoteAddr, r.Header)
}

// Lookup finds the certificate a client presented, given the request's TLS
// connection state (nil on plain HTTP), its peer address ("host:port" as in
// http.Request.RemoteAddr) and its headers:
//
//   - from a trusted proxy, with a header configured: the header, and only
//     the header (absent or empty: no certificate). The connection's own
//     peer certificate is the proxy's, never the client's.
//   - from anyone else: the connection's peer certificate, if any. A
//     certificate header on such a request is ignored and reported in
//     Presented.IgnoredHeaderFrom.
//
// A trusted proxy is taken to terminate TLS: a TCP pass-through balancer,
// whose connections carry the client's own TLS, must not be listed as one
// while a header is configured.
//
// A certificate that cannot be read is an error wrapping
// ErrMalformedCertificate; no certificate at all is not an error.
func (s *CertificateSource) Lookup(state *tls.ConnectionState, remoteAddr string, header http.Header) (Presented, error) {
	var out Presented
	if s != nil && s.header != "" {
		values := header.Values(s.header)
		peer, trusted := s.trustedPeer(remoteAddr)
		switch {
		case trusted && len(values) > 1:
			return out, fmt.Errorf("%w: %d %s headers; the proxy must set exactly one", ErrMalformedCertificate, len(values), s.header)
		case trusted && len(values) == 0:
			return out, nil
		case trusted:
			if strings.TrimSpace(values[0]) == "" { // nginx sends "" without a certificate
				return out, nil
			}
			cert, err := ParseCertificateHeader(values[0])
			if err != nil {
				return out, fmt.Errorf("%s header from %s: %w", s.header, peer, err)
			}
			cert.Source = SourceHeader
			out.Certificate = cert
			return out, nil
		case len(values) > 0:
			out.IgnoredHeaderFrom = peer
		}
	}
	if state == nil || len(state.PeerCertificates) == 0 {
		return out, nil
	}
	certs := state.PeerCertificates
	if len(certs) > MaxChainLen {
		return out, fmt.Errorf("%w: the client sent %d certificates, at most %d are accepted", ErrMalformedCertificate, len(certs), MaxChainLen)
	}
	out.Certificate = &ClientCertificate{Leaf: certs[0], Intermediates: certs[1:], Source: SourceTLS}
	return out, nil
}

// trustedPeer returns the peer address for logs and whether it lies in a
// trusted proxy prefix; an address that does not parse is never trusted.
func (s *CertificateSource) trustedPeer(remoteAddr string) (string, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host, false
	}
	addr = addr.WithZone("").Unmap()
	for _, p := range s.trusted {
		if p.Contains(addr) {
			return addr.String(), true
		}
	}
	return addr.String(), false
}
