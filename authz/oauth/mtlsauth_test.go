package oauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/storage"
)

// testCert issues a certificate for cn (self-signed when parent is nil) and
// returns it with its key.
func testCert(t *testing.T, cn string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example Bank"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{cn + ".example"},
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return cert, key
}

// TestTLSClientAuthentication authenticates tls_client_auth and
// self_signed_tls_client_auth clients (RFC 8705 §2) at the client
// authentication strategy every endpoint uses: the certificate on the
// connection or from a trusted proxy's header, never from anyone else's.
func TestTLSClientAuthentication(t *testing.T) {
	store := newMemoryStore(t)
	ctx := t.Context()

	ca, caKey := testCert(t, "Test Client CA", true, nil, nil)
	otherCA, otherCAKey := testCert(t, "Other CA", true, nil, nil)
	partner, _ := testCert(t, "partner", false, ca, caKey)
	stranger, _ := testCert(t, "stranger", false, ca, caKey)
	forged, _ := testCert(t, "partner", false, otherCA, otherCAKey)
	selfSigned, _ := testCert(t, "selfsigned", false, nil, nil)
	otherSelfSigned, _ := testCert(t, "selfsigned", false, nil, nil)

	tlsClient := testClient("tls")
	tlsClient.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	dn, err := mtls.CertificateSubjectDN(partner)
	must(t, err)
	tlsClient.Metadata.TLSClientAuthSubjectDN = dn
	sanClient := testClient("tls-san")
	sanClient.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	sanClient.Metadata.TLSClientAuthSANDNS = "partner.example"
	selfClient := testClient("self")
	selfClient.TokenEndpointAuthMethod = storage.AuthMethodSelfSignedTLSClientAuth
	selfClient.JWKS = jwks(t, jose.JSONWebKey{Key: selfSigned.PublicKey, Use: "sig", KeyID: "cert"})
	basic := testClient("basic")
	disabled := testClient("tls-disabled")
	disabled.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	disabled.Metadata.TLSClientAuthSubjectDN = dn
	disabled.Disabled = true
	for _, c := range []*storage.Client{tlsClient, sanClient, selfClient, basic, disabled} {
		must(t, store.CreateClient(ctx, c))
	}

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	src, err := mtls.NewCertificateSource("X-Client-Cert", []netip.Prefix{proxy})
	must(t, err)
	var logs bytes.Buffer
	p := newTestProvider(t, store)
	p.now = time.Now
	p.log = slog.New(slog.NewTextHandler(&logs, nil))
	WithClientCertificates(src)(p.core)
	WithClientCAs(pool)(p.core)
	noCA := newTestProvider(t, store)
	noCA.now = time.Now

	headerOf := func(c *x509.Certificate) string {
		return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))) // nginx $ssl_client_escaped_cert
	}
	type req struct {
		client string
		cert   *x509.Certificate // on the TLS connection
		header string            // X-Client-Cert
		peer   string
		basic  bool
	}
	tests := []struct {
		name string
		p    *Authorizer
		req  req
		ok   bool
		hint string
	}{
		{"ok/tls-client-auth-subject-dn", p, req{client: "tls", cert: partner}, true, ""},
		{"ok/tls-client-auth-san-dns", p, req{client: "tls-san", cert: partner}, true, ""},
		{"ok/tls-client-auth-from-trusted-proxy", p, req{client: "tls", header: headerOf(partner), peer: "10.1.2.3:4000"}, true, ""},
		{"ok/self-signed", p, req{client: "self", cert: selfSigned}, true, ""},
		{"fail/tls-client-auth-wrong-ca", p, req{client: "tls", cert: forged}, false, "not trusted"},
		{"fail/tls-client-auth-wrong-dn", p, req{client: "tls", cert: stranger}, false, "subject"},
		{"fail/tls-client-auth-wrong-san", p, req{client: "tls-san", cert: stranger}, false, "subject"},
		{"fail/tls-client-auth-no-certificate", p, req{client: "tls"}, false, "must present"},
		{"fail/tls-client-auth-header-from-untrusted-peer", p, req{client: "tls", header: headerOf(partner), peer: "192.0.2.7:4000"}, false, "must present"},
		{"fail/tls-client-auth-no-client-ca", noCA, req{client: "tls", cert: partner}, false, "not trusted"},
		{"fail/self-signed-unregistered-key", p, req{client: "self", cert: otherSelfSigned}, false, "registered keys"},
		{"fail/self-signed-no-certificate", p, req{client: "self"}, false, "must present"},
		{"fail/self-signed-ca-issued-cert", p, req{client: "self", cert: partner}, false, "registered keys"},
		{"fail/disabled-client", p, req{client: "tls-disabled", cert: partner}, false, ""},
		{"fail/unknown-client", p, req{client: "ghost", cert: partner}, false, ""},
		{"fail/basic-client-with-certificate-only", p, req{client: "basic", cert: partner}, false, ""},
		{"fail/tls-client-with-basic-header", p, req{client: "tls", cert: partner, basic: true}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"client_id": {tc.req.client}}
			r := authRequest(t, authz.PathToken, form, "", "")
			if tc.req.basic {
				r.SetBasicAuth(tc.req.client, "")
			}
			r.RemoteAddr = "198.51.100.1:5000"
			if tc.req.peer != "" {
				r.RemoteAddr = tc.req.peer
			}
			if tc.req.cert != nil {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.req.cert}}
			}
			if tc.req.header != "" {
				r.Header.Set("X-Client-Cert", tc.req.header)
			}
			c, err := tc.p.provider.AuthenticateClient(ctx, r, r.PostForm)
			if tc.ok {
				must(t, err)
				if c.GetID() != tc.req.client {
					t.Fatalf("authenticated as %q, want %q", c.GetID(), tc.req.client)
				}
				return
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
			if tc.hint != "" && !strings.Contains(authz.ErrorResponse(err).GetDescription(), tc.hint) {
				t.Fatalf("description %q does not say %q", authz.ErrorResponse(err).GetDescription(), tc.hint)
			}
		})
	}
	if !strings.Contains(logs.String(), "untrusted peer") || !strings.Contains(logs.String(), "192.0.2.7") {
		t.Fatalf("the ignored header was not logged: %s", logs.String())
	}
}

// TestDiscoveryListsMTLSMethodsOnlyWhenConfigured: the RFC 8705 methods are
// advertised only when a client certificate can reach the server.
func TestDiscoveryListsMTLSMethodsOnlyWhenConfigured(t *testing.T) {
	store := newMemoryStore(t)
	has := func(p *Tokens, key string) bool {
		for _, m := range p.discovery()[key].([]string) {
			if m == mtls.MethodTLSClientAuth {
				return true
			}
		}
		return false
	}
	plain := newTestTokens(t, store)
	withCA := newTestTokens(t, store, WithClientCAs(x509.NewCertPool()))
	src, err := mtls.NewCertificateSource("X-Client-Cert", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	must(t, err)
	withHeader := newTestTokens(t, store, WithClientCertificates(src))
	for _, key := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		if has(plain, key) {
			t.Errorf("%s lists tls_client_auth without a client CA or header", key)
		}
		if !has(withCA, key) || !has(withHeader, key) {
			t.Errorf("%s does not list tls_client_auth with a client CA or header", key)
		}
	}
}
