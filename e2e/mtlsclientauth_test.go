package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// mtlsEnv is a server that terminates TLS itself and requests (never
// requires) client certificates, with ca as the tls_client_auth trust
// anchor and an X-Client-Cert header believed only from 10.0.0.0/8 (so
// never from the tests, which connect from 127.0.0.1).
type mtlsEnv struct {
	*env
	ca *testCA
}

func startMTLS(t *testing.T) *mtlsEnv {
	t.Helper()
	ca := newTestCA(t, "Strongroom client CA")
	serverCert := ca.issue(t, "127.0.0.1", true)
	src, err := mtls.NewCertificateSource("X-Client-Cert", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, func(c *server.Config) {
		c.TLS = mtls.RequestClientCertificates(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}, nil)
		c.ClientCAs = ca.pool()
		c.ClientCertificates = src
	})
	return &mtlsEnv{env: e, ca: ca}
}

// client is an HTTPS client presenting certs (none: no certificate).
func (m *mtlsEnv) client(t *testing.T, certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: m.ca.pool(), Certificates: certs, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// post sends form to path with hc and decodes the JSON answer.
func (m *mtlsEnv) post(t *testing.T, hc *http.Client, path string, form url.Values, header http.Header) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, m.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("POST %s: %d non-JSON body %q", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, out
}

// selfSignedCert is a self-signed client certificate (a CA's own
// certificate serves: no chain is verified for self_signed_tls_client_auth).
func selfSignedCert(t *testing.T, name string) (tls.Certificate, *testCA) {
	ca := newTestCA(t, name)
	return tls.Certificate{Certificate: [][]byte{ca.cert.Raw}, PrivateKey: ca.key}, ca
}

// TestTLSClientAuthOverTLS: tls_client_auth and self_signed_tls_client_auth
// (RFC 8705 §2) at the token endpoint over real TLS, with net/http clients
// presenting certificates, and the same methods at introspection and
// revocation. Every failure is 401 invalid_client.
func TestTLSClientAuthOverTLS(t *testing.T) {
	m := startMTLS(t)
	other := newTestCA(t, "Someone else's CA")

	partner := webClient("client_credentials")
	partner.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	partner.Metadata.TLSClientAuthSubjectDN = "CN=partner-server"
	m.createClient(partner)
	selfCert, selfCA := selfSignedCert(t, "partner-self-signed")
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &selfCA.key.PublicKey, KeyID: "cert", Use: "sig"}}})
	self := webClient("client_credentials")
	self.TokenEndpointAuthMethod = storage.AuthMethodSelfSignedTLSClientAuth
	self.JWKS = set
	m.createClient(self)

	good := m.client(t, m.ca.issue(t, "partner-server", false))
	wrongCA := m.client(t, other.issue(t, "partner-server", false))
	wrongDN := m.client(t, m.ca.issue(t, "someone-else", false))
	noCert := m.client(t)
	selfGood := m.client(t, selfCert)
	unregistered, _ := selfSignedCert(t, "partner-self-signed")
	selfWrong := m.client(t, unregistered)

	cc := func(id string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}
	}
	proxied := http.Header{"X-Client-Cert": {url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.ca.issue(t, "partner-server", false).Certificate[0]})))}}
	tests := []struct {
		name   string
		hc     *http.Client
		form   url.Values
		header http.Header
		ok     bool
	}{
		{"ok/tls-client-auth", good, cc(partner.ID), nil, true},
		{"fail/tls-client-auth-wrong-ca", wrongCA, cc(partner.ID), nil, false},
		{"fail/tls-client-auth-wrong-dn", wrongDN, cc(partner.ID), nil, false},
		{"fail/tls-client-auth-no-certificate", noCert, cc(partner.ID), nil, false},
		{"fail/tls-client-auth-header-from-untrusted-peer", noCert, cc(partner.ID), proxied, false},
		{"ok/self-signed-tls-client-auth", selfGood, cc(self.ID), nil, true},
		{"fail/self-signed-unregistered-key", selfWrong, cc(self.ID), nil, false},
		{"fail/self-signed-no-certificate", noCert, cc(self.ID), nil, false},
		{"fail/self-signed-ca-issued-certificate", good, cc(self.ID), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := m.post(t, tc.hc, authz.PathToken, tc.form, tc.header)
			if tc.ok {
				if st != http.StatusOK || body["access_token"] == nil {
					t.Fatalf("token: %d %v", st, body)
				}
				return
			}
			if st != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Fatalf("token: %d %v, want 401 invalid_client", st, body)
			}
		})
	}
	if logs := m.Logs(); !strings.Contains(logs, "untrusted peer") || !strings.Contains(logs, "X-Client-Cert") {
		t.Errorf("the ignored certificate header was not logged")
	}
	// refusals are in the access log like other client authentication
	// failures: the client the request claimed, status 401
	refused := map[string]int{}
	for _, line := range strings.Split(m.Logs(), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "request" || l["path"] != authz.PathToken {
			continue
		}
		if st, _ := l["status"].(float64); st == http.StatusUnauthorized {
			id, _ := l["client_id"].(string)
			refused[id]++
		}
	}
	if refused[partner.ID] != 4 || refused[self.ID] != 3 {
		t.Errorf("401 token request lines by client: %v, want %s: 4 and %s: 3", refused, partner.ID, self.ID)
	}

	t.Run("ok/introspection-and-revocation", func(t *testing.T) {
		st, tok := m.post(t, good, authz.PathToken, cc(partner.ID), nil)
		if st != http.StatusOK {
			t.Fatalf("token: %d %v", st, tok)
		}
		at, _ := tok["access_token"].(string)
		st, res := m.post(t, good, authz.PathIntrospect, url.Values{"client_id": {partner.ID}, "token": {at}}, nil)
		if st != http.StatusOK || res["active"] != true {
			t.Fatalf("introspect: %d %v", st, res)
		}
		if st, res := m.post(t, noCert, authz.PathIntrospect, url.Values{"client_id": {partner.ID}, "token": {at}}, nil); st != http.StatusUnauthorized {
			t.Fatalf("introspect without a certificate: %d %v", st, res)
		}
		if st, res := m.post(t, good, authz.PathRevoke, url.Values{"client_id": {partner.ID}, "token": {at}}, nil); st != http.StatusOK {
			t.Fatalf("revoke: %d %v", st, res)
		}
		if _, res := m.post(t, good, authz.PathIntrospect, url.Values{"client_id": {partner.ID}, "token": {at}}, nil); res["active"] != false {
			t.Fatalf("introspect after revocation: %v", res)
		}
	})

	t.Run("ok/discovery-lists-mtls-methods", func(t *testing.T) {
		resp, err := good.Get(m.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&d)
		methods, _ := json.Marshal(d["token_endpoint_auth_methods_supported"])
		if !strings.Contains(string(methods), `"tls_client_auth"`) || !strings.Contains(string(methods), `"self_signed_tls_client_auth"`) {
			t.Fatalf("token_endpoint_auth_methods_supported = %s", methods)
		}
	})
}

// TestFAPI2TLSClientAuthPARPKCE: a FAPI 2.0 client authenticating with
// tls_client_auth runs PAR + PKCE + the authorization code over real TLS;
// its code is usable once, an authorization request without PAR is
// refused, and its refresh token is not rotated (a retried refresh with
// the same token succeeds, FAPI 2.0 SP §5.3.2.1).
func TestFAPI2TLSClientAuthPARPKCE(t *testing.T) {
	m := startMTLS(t)
	c := webClient("authorization_code", "refresh_token")
	c.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	c.RequirePAR = true
	c.Metadata.Profile = storage.ProfileFAPI2
	c.Metadata.TLSClientAuthSubjectDN = "CN=bank-partner"
	c.Metadata.TLSClientCertificateBoundAccessTokens = true
	c.IDTokenSignedResponseAlg = "ES256"
	m.createClient(c)
	hc := m.client(t, m.ca.issue(t, "bank-partner", false))

	verifier, challenge := pkcePair()
	push := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid offline_access"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	plain := url.Values{}
	for k, v := range push {
		plain[k] = v
	}
	plain.Set("code_challenge_method", "plain")
	if st, body := m.post(t, hc, authz.PathPAR, plain, nil); st != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("PAR with plain PKCE: %d %v", st, body)
	}
	if st, body := m.post(t, m.client(t), authz.PathPAR, push, nil); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("PAR without a certificate: %d %v", st, body)
	}
	st, par := m.post(t, hc, authz.PathPAR, push, nil)
	requestURI, _ := par["request_uri"].(string)
	if st != http.StatusCreated || requestURI == "" {
		t.Fatalf("PAR: %d %v", st, par)
	}

	b := newBrowser(t)
	b.c.Transport = hc.Transport
	// without PAR: refused, invalid_request back to the client
	direct := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if resp, body := b.get(m.issuer + "/oauth2/authorize?" + direct.Encode()); resp.StatusCode != http.StatusSeeOther ||
		!strings.Contains(resp.Header.Get("Location"), "error=invalid_request") {
		t.Fatalf("authorize without PAR: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	loc := m.login(b, m.issuer+"/oauth2/authorize?"+url.Values{"client_id": {c.ID}, "request_uri": {requestURI}}.Encode(), "alice", testPassword, true)
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("iss") != m.issuer {
		t.Fatalf("authorization response %s", loc)
	}
	exchange := exchangeForm(code, verifier)
	exchange.Set("client_id", c.ID)
	st, tok := m.post(t, hc, authz.PathToken, exchange, nil)
	refresh, _ := tok["refresh_token"].(string)
	if st != http.StatusOK || refresh == "" {
		t.Fatalf("code exchange: %d %v", st, tok)
	}
	for i := range 2 {
		st, again := m.post(t, hc, authz.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {c.ID}}, nil)
		if st != http.StatusOK || again["access_token"] == nil || again["refresh_token"] != refresh {
			t.Fatalf("refresh %d with the same refresh token: %d %v", i+1, st, again)
		}
	}
}

// TestTLSClientAuthBehindTrustedProxy: behind a TLS-terminating proxy
// (serve --client-cert-header from --trusted-proxy addresses) the
// certificate comes from the header the proxy sets: tls_client_auth
// succeeds with the client's certificate in it and fails without it or
// with another CA's certificate.
func TestTLSClientAuthBehindTrustedProxy(t *testing.T) {
	ca, other := newTestCA(t, "Strongroom client CA"), newTestCA(t, "Someone else's CA")
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	src, err := mtls.NewCertificateSource("X-Client-Cert", loopback)
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, func(c *server.Config) {
		c.ClientCAs = ca.pool()
		c.ClientCertificates = src
		c.TrustedProxies = loopback
	})
	partner := webClient("client_credentials")
	partner.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	partner.Metadata.TLSClientAuthSubjectDN = "CN=partner-server"
	e.createClient(partner)
	header := func(c tls.Certificate) http.Header {
		return http.Header{"X-Client-Cert": {url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})))}}
	}
	m := &mtlsEnv{env: e, ca: ca}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {partner.ID}}
	if st, body := m.post(t, http.DefaultClient, authz.PathToken, form, header(ca.issue(t, "partner-server", false))); st != http.StatusOK {
		t.Fatalf("certificate from the trusted proxy: %d %v", st, body)
	}
	for name, h := range map[string]http.Header{
		"no header":          nil,
		"another CA":         header(other.issue(t, "partner-server", false)),
		"another subject DN": header(ca.issue(t, "someone-else", false)),
	} {
		if st, body := m.post(t, http.DefaultClient, authz.PathToken, form, h); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("%s: %d %v, want 401 invalid_client", name, st, body)
		}
	}
}

// fapi2PrivateKeyJWT registers c as a private_key_jwt client with an ES256
// key (token_endpoint_auth_signing_alg ES256, the client authentication a
// FAPI 2.0 client may use) and returns a function that adds a fresh client
// assertion for e's token endpoint to a form.
func fapi2PrivateKeyJWT(t *testing.T, e *env, c *storage.Client) func(url.Values) url.Values {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.JWKS = set
	c.Metadata.TokenEndpointAuthSigningAlg = "ES256"
	e.createClient(c)
	a := &assertionClient{id: c.ID, key: key}
	return func(form url.Values) url.Values {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", a.assertion(t, e.issuer, randString(), time.Minute))
		return f
	}
}
