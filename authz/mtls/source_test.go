package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

const certHeader = "X-SSL-Client-Cert"

func trustedSource(t *testing.T) *CertificateSource {
	t.Helper()
	s, err := NewCertificateSource(strings.ToLower(certHeader), []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8::/32"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func headerWith(value string) http.Header {
	h := http.Header{}
	h.Set(certHeader, value)
	return h
}

func TestClientCertHeaderFromTrustedProxyUsed(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	s := trustedSource(t)
	for _, peer := range []string{"10.1.2.3:4711", "[2001:db8::7]:443", "[::ffff:10.1.2.3]:80"} {
		got, err := s.Lookup(nil, peer, headerWith(url.PathEscape(pemOf(leaf))))
		if err != nil {
			t.Fatalf("%s: %v", peer, err)
		}
		if got.Certificate == nil || !got.Certificate.Leaf.Equal(leaf) || got.Certificate.Source != SourceHeader {
			t.Fatalf("%s: got %+v, want the forwarded certificate", peer, got.Certificate)
		}
		if got.IgnoredHeaderFrom != "" {
			t.Fatalf("%s: header reported as ignored", peer)
		}
	}
}

func TestClientCertHeaderFromUntrustedPeerIgnored(t *testing.T) {
	forged, _ := selfSigned(t, nil)
	own, _ := selfSigned(t, nil)
	s := trustedSource(t)
	h := headerWith(url.PathEscape(pemOf(forged)))

	got, err := s.Lookup(nil, "192.0.2.1:5555", h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Certificate != nil {
		t.Fatal("a certificate header from an untrusted peer was believed")
	}
	if got.IgnoredHeaderFrom != "192.0.2.1" {
		t.Fatalf("IgnoredHeaderFrom = %q, want the peer address for the log", got.IgnoredHeaderFrom)
	}

	// The peer's own TLS certificate still counts; the header does not.
	got, err = s.Lookup(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{own}}, "192.0.2.1:5555", h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Certificate == nil || !got.Certificate.Leaf.Equal(own) || got.Certificate.Source != SourceTLS {
		t.Fatalf("got %+v, want the connection's certificate", got.Certificate)
	}
	if got.IgnoredHeaderFrom == "" {
		t.Fatal("the ignored header was not reported")
	}

	// Garbage in an ignored header is no error: it is never read.
	if _, err := s.Lookup(nil, "192.0.2.1:5555", headerWith("garbage")); err != nil {
		t.Fatalf("garbage in an ignored header: %v", err)
	}
	// An unparsable peer address is never trusted.
	if got, _ := s.Lookup(nil, "@", h); got.Certificate != nil {
		t.Fatal("a header from an unparsable peer address was believed")
	}
}

func TestClientCertHeaderIgnoredWhenNoHeaderConfigured(t *testing.T) {
	forged, _ := selfSigned(t, nil)
	s, err := NewCertificateSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Lookup(nil, "10.0.0.1:1", headerWith(pemOf(forged)))
	if err != nil || got.Certificate != nil || got.IgnoredHeaderFrom != "" {
		t.Fatalf("got %+v, %v; want nothing", got, err)
	}
	var zero CertificateSource
	if got, err := zero.FromRequest(&http.Request{RemoteAddr: "10.0.0.1:1", Header: headerWith(pemOf(forged))}); err != nil || got.Certificate != nil {
		t.Fatalf("zero source: got %+v, %v", got, err)
	}
}

func TestClientCertHeaderFromTrustedProxyReplacesProxyTLSCertificate(t *testing.T) {
	proxyCert, _ := selfSigned(t, nil)
	clientCert, _ := selfSigned(t, nil)
	s := trustedSource(t)
	state := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{proxyCert}}

	got, err := s.Lookup(state, "10.0.0.2:1", headerWith(url.PathEscape(pemOf(clientCert))))
	if err != nil || got.Certificate == nil || !got.Certificate.Leaf.Equal(clientCert) {
		t.Fatalf("got %+v, %v; want the client's certificate from the header", got.Certificate, err)
	}
	// No header from the proxy: the client sent no certificate; the proxy's
	// own is never taken for it.
	got, err = s.Lookup(state, "10.0.0.2:1", http.Header{})
	if err != nil || got.Certificate != nil {
		t.Fatalf("got %+v, %v; want no certificate", got.Certificate, err)
	}
	// nginx sends an empty value when the client sent none.
	got, err = s.Lookup(state, "10.0.0.2:1", headerWith(""))
	if err != nil || got.Certificate != nil {
		t.Fatalf("empty header: got %+v, %v; want no certificate", got.Certificate, err)
	}
}

func TestClientCertHeaderSentTwiceRefused(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	h := http.Header{}
	h.Add(certHeader, url.PathEscape(pemOf(leaf)))
	h.Add(certHeader, url.PathEscape(pemOf(leaf)))
	if _, err := trustedSource(t).Lookup(nil, "10.0.0.1:1", h); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("got %v, want ErrMalformedCertificate", err)
	}
}

func TestClientCertHeaderFormatsOfRealProxies(t *testing.T) {
	root := newTestCA(t, "Root")
	inter := root.intermediate(t, "Issuing CA")
	leaf, _ := inter.issue(t, nil)
	p := pemOf(leaf)
	b64 := base64.StdEncoding.EncodeToString(leaf.Raw)
	b64Inter := base64.StdEncoding.EncodeToString(inter.cert.Raw)

	// nginx $ssl_client_escaped_cert escapes every reserved character.
	nginxEscaped := url.QueryEscape(p)
	nginxEscaped = strings.ReplaceAll(nginxEscaped, "+", "%20")
	// AWS ALB leaves '+', '=' and '/' unescaped.
	albEscaped := strings.NewReplacer("%2B", "+", "%3D", "=", "%2F", "/").Replace(nginxEscaped)
	if !strings.Contains(albEscaped, "+") && !strings.Contains(albEscaped, "/") {
		t.Log("note: this certificate's base64 has neither '+' nor '/'")
	}

	tests := map[string]struct {
		value         string
		intermediates int
	}{
		"nginx ssl_client_escaped_cert": {value: nginxEscaped},
		"aws alb url-encoded pem":       {value: albEscaped},
		"pem with newlines":             {value: p},
		"pem with spaces (apache)":      {value: strings.ReplaceAll(strings.TrimSpace(p), "\n", " ")},
		"pem with tabs (nginx legacy)":  {value: strings.ReplaceAll(strings.TrimSpace(p), "\n", "\n\t")},
		"pem folded to tabs only":       {value: strings.ReplaceAll(strings.TrimSpace(p), "\n", "\t")},
		"pem with literal \\n":          {value: strings.ReplaceAll(strings.TrimSpace(p), "\n", `\n`)},
		"pem with crlf":                 {value: strings.ReplaceAll(p, "\n", "\r\n")},
		"haproxy base64 der":            {value: b64},
		"base64 der without padding":    {value: strings.TrimRight(b64, "=")},
		"base64url der":                 {value: base64.RawURLEncoding.EncodeToString(leaf.Raw)},
		"rfc 9440 client-cert":          {value: ":" + b64 + ":"},
		"traefik escaped base64 chain":  {value: url.QueryEscape(b64 + "," + b64Inter), intermediates: 1},
		"envoy xfcc cert":               {value: `By=spiffe://as.example;Hash=abc123;Cert="` + url.PathEscape(p) + `";Subject="CN=client.example.com,O=Example Bank,C=GB";URI=`},
		"envoy xfcc chain only":         {value: `Hash=abc;Chain="` + url.PathEscape(p+pemOf(inter.cert)) + `"`, intermediates: 1},
		"envoy xfcc unquoted cert":      {value: `Hash=abc;Cert=` + url.PathEscape(p)},
		"pem chain":                     {value: url.PathEscape(p + pemOf(inter.cert)), intermediates: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCertificateHeader(tc.value)
			if err != nil {
				t.Fatalf("ParseCertificateHeader: %v", err)
			}
			if !got.Leaf.Equal(leaf) {
				t.Fatal("parsed another certificate")
			}
			if len(got.Intermediates) != tc.intermediates {
				t.Fatalf("%d intermediates, want %d", len(got.Intermediates), tc.intermediates)
			}
			if tc.intermediates > 0 && !got.Intermediates[0].Equal(inter.cert) {
				t.Fatal("wrong intermediate")
			}
		})
	}
}

func TestClientCertHeaderGarbageGivesClearError(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	p := pemOf(leaf)
	tests := map[string]struct {
		value string
		want  string
	}{
		"not base64":                 {value: "hello world!", want: "neither PEM nor base64 DER"},
		"base64 but not a cert":      {value: base64.StdEncoding.EncodeToString([]byte("not a certificate at all")), want: "not an X.509 certificate"},
		"bad url escape":             {value: "%zz" + p, want: "URL escaping"},
		"pem without end":            {value: strings.Split(p, "-----END")[0], want: "no END line"},
		"private key block":          {value: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", want: "not a CERTIFICATE"},
		"text after pem":             {value: p + "trailing", want: "outside the PEM blocks"},
		"corrupted pem body":         {value: strings.Replace(p, "MII", "M!I", 1), want: "not base64"},
		"xfcc with several elements": {value: `Hash=a;Cert="` + url.PathEscape(p) + `",Hash=b;Cert="` + url.PathEscape(p) + `"`, want: "2 elements"},
		"xfcc without cert":          {value: `By=spiffe://x;Hash=abc;Subject="CN=x"`, want: "no Cert"},
		"xfcc unterminated quote":    {value: `Hash=a;Cert="abc`, want: "unterminated"},
		"too many certificates":      {value: strings.Repeat(p, MaxChainLen+1), want: "at most"},
		"oversized header":           {value: strings.Repeat("A", MaxCertificateHeaderLen+1), want: "exceeds the limit"},
		"truncated der":              {value: base64.StdEncoding.EncodeToString(leaf.Raw[:len(leaf.Raw)/2]), want: "not an X.509 certificate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseCertificateHeader(tc.value)
			if !errors.Is(err, ErrMalformedCertificate) {
				t.Fatalf("got %v, want ErrMalformedCertificate", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
	if _, err := ParseCertificateHeader("   "); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("blank header: got %v, want ErrNoCertificate", err)
	}
	// Through a lookup, the error names the header and the proxy.
	_, err := trustedSource(t).Lookup(nil, "10.9.9.9:1", headerWith("garbage!"))
	if !errors.Is(err, ErrMalformedCertificate) || !strings.Contains(err.Error(), http.CanonicalHeaderKey(certHeader)) || !strings.Contains(err.Error(), "10.9.9.9") {
		t.Fatalf("got %v, want ErrMalformedCertificate naming the header and the proxy", err)
	}
}

func TestConnectionWithTooManyCertificatesRefused(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	chain := make([]*x509.Certificate, MaxChainLen+1)
	for i := range chain {
		chain[i] = leaf
	}
	var s CertificateSource
	if _, err := s.Lookup(&tls.ConnectionState{PeerCertificates: chain}, "192.0.2.1:1", nil); !errors.Is(err, ErrMalformedCertificate) {
		t.Fatalf("got %v, want ErrMalformedCertificate", err)
	}
}

func TestNewCertificateSourceRefusesUnusableConfig(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for name, tc := range map[string]struct {
		header  string
		trusted []netip.Prefix
	}{
		"header without trusted proxies": {header: "X-Client-Cert"},
		"invalid header name":            {header: "X Client Cert", trusted: trusted},
		"invalid prefix":                 {header: "X-Client-Cert", trusted: []netip.Prefix{{}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewCertificateSource(tc.header, tc.trusted); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
	s, err := NewCertificateSource("x-forwarded-client-cert", trusted)
	if err != nil || s.Header() != "X-Forwarded-Client-Cert" {
		t.Fatalf("got %v, %v", s.Header(), err)
	}
}

func FuzzParseCertificateHeader(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
	f.Add(`Hash=a;Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----"`)
	f.Add(":TUlJQg==:")
	f.Add("TUlJQg==,TUlJQg")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCertificateHeader(v)
		if err == nil && (c == nil || c.Leaf == nil) {
			t.Fatalf("no error and no certificate for %q", v)
		}
		if err != nil && !errors.Is(err, ErrMalformedCertificate) && !errors.Is(err, ErrNoCertificate) {
			t.Fatalf("error %v wraps neither sentinel", err)
		}
	})
}
