package mtls

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// The per-request costs mTLS adds at the token endpoint and at resources.

func BenchmarkTLSClientAuth(b *testing.B) {
	t := b
	root := newTestCA(t, "Root")
	inter := root.intermediate(t, "Issuing CA")
	leaf, _ := inter.issue(t, nil)
	a := NewAuthenticator(pool(root.cert), fixedClock)
	cert := presented(leaf, inter.cert)
	b.ReportAllocs()
	for b.Loop() {
		if err := a.TLSClientAuth(cert, subjectDN); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelfSignedTLSClientAuth(b *testing.B) {
	t := b
	leaf, key := selfSigned(t, nil)
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: newKey(t).Public()}, {Key: key.Public()}}}
	a := NewAuthenticator(nil, fixedClock)
	cert := presented(leaf)
	b.ReportAllocs()
	for b.Loop() {
		if err := a.SelfSignedTLSClientAuth(cert, jwks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBoundCertificate(b *testing.B) {
	leaf, _ := selfSigned(b, nil)
	cert, tp := presented(leaf), Thumbprint(leaf)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyBoundCertificate(cert, tp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupFromProxyHeader(b *testing.B) {
	leaf, _ := selfSigned(b, nil)
	s, err := NewCertificateSource("X-SSL-Client-Cert", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{"X-Ssl-Client-Cert": {url.PathEscape(pemOf(leaf))}}
	b.ReportAllocs()
	for b.Loop() {
		if got, err := s.Lookup(nil, "10.0.0.1:443", h); err != nil || got.Certificate == nil {
			b.Fatal(err)
		}
	}
}
