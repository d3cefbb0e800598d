package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client-ca.pem")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadClientCAsReadsEveryCertificate(t *testing.T) {
	a, b := newTestCA(t, "CA A"), newTestCA(t, "CA B")
	leafA, _ := a.issue(t, nil)
	leafB, _ := b.issue(t, nil)
	p, err := LoadClientCAs(writeFile(t, "# our client CAs\n"+pemOf(a.cert)+"\n"+pemOf(b.cert)))
	if err != nil {
		t.Fatal(err)
	}
	auth := NewAuthenticator(p, fixedClock)
	for _, leaf := range []*x509.Certificate{leafA, leafB} {
		if err := auth.TLSClientAuth(presented(leaf), subjectDN); err != nil {
			t.Fatalf("%s: %v", leaf.Issuer, err)
		}
	}
}

func TestLoadClientCAsRefusesUnusableFile(t *testing.T) {
	ca := newTestCA(t, "CA")
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	badCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	tests := map[string]struct {
		path string
		want string
	}{
		"missing":            {path: filepath.Join(t.TempDir(), "nope.pem"), want: "no such file"},
		"empty":              {path: writeFile(t, ""), want: "empty"},
		"blank":              {path: writeFile(t, " \n\t\n"), want: "empty"},
		"garbage":            {path: writeFile(t, "this is not a certificate\n"), want: "no PEM certificate"},
		"private key":        {path: writeFile(t, pemOf(ca.cert)+keyPEM), want: `PEM block 2 is a "PRIVATE KEY"`},
		"broken certificate": {path: writeFile(t, badCert), want: "not a valid X.509 certificate"},
		"trailing garbage":   {path: writeFile(t, pemOf(ca.cert)+"-----BEGIN CERT"), want: "unexpected text"},
		"directory":          {path: t.TempDir(), want: "directory"},
		"no path":            {path: "", want: "no client CA file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := LoadClientCAs(tc.path)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if tc.path != "" && !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestRequestClientCertificatesRequestsNeverRequires(t *testing.T) {
	base := &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAndVerifyClientCert}
	cfg := RequestClientCertificates(base, nil)
	if cfg.ClientAuth != tls.RequestClientCert || cfg.ClientCAs != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("got ClientAuth %v, ClientCAs %v, MinVersion %x", cfg.ClientAuth, cfg.ClientCAs, cfg.MinVersion)
	}
	if base.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatal("the base configuration was modified")
	}
	if cfg := RequestClientCertificates(nil, nil); cfg.MinVersion < tls.VersionTLS12 || cfg.ClientAuth != tls.RequestClientCert {
		t.Fatalf("from nil: %+v", cfg)
	}
}

// mtlsServer is a public listener as serve builds it: client certificates
// requested, verification left to the handler, which reports what it found.
func mtlsServer(t *testing.T, h2 bool, clientCAs *x509.CertPool, advertised *x509.CertPool, jwks *jose.JSONWebKeySet) *httptest.Server {
	t.Helper()
	var source CertificateSource
	auth := NewAuthenticator(clientCAs, fixedClock)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := source.FromRequest(r)
		out := map[string]string{"proto": r.Proto}
		switch {
		case err != nil:
			out["error"] = err.Error()
		case got.Certificate == nil:
			out["certificate"] = "none"
		default:
			out["certificate"] = got.Certificate.Source
			out["x5t#S256"] = Thumbprint(got.Certificate.Leaf)
			if err := auth.TLSClientAuth(got.Certificate, subjectDN); err != nil {
				out["tls_client_auth"] = err.Error()
			} else {
				out["tls_client_auth"] = "ok"
			}
			if err := auth.SelfSignedTLSClientAuth(got.Certificate, jwks); err != nil {
				out["self_signed_tls_client_auth"] = err.Error()
			} else {
				out["self_signed_tls_client_auth"] = "ok"
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	srv.TLS = RequestClientCertificates(&tls.Config{MinVersion: tls.VersionTLS12}, advertised)
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// call makes one request over a fresh TLS connection, presenting chain
// (leaf first) when it is not empty.
func call(t *testing.T, srv *httptest.Server, maxVersion uint16, chain []*x509.Certificate, key any) map[string]string {
	t.Helper()
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.MaxVersion = maxVersion
	if len(chain) > 0 {
		c := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
		for _, x := range chain {
			c.Certificate = append(c.Certificate, x.Raw)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]string
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	return out
}

func TestTLSRoundTripClientCertificateRequestedNotRequired(t *testing.T) {
	root := newTestCA(t, "Client Root")
	inter := root.intermediate(t, "Client Issuing CA")
	leaf, leafKey := inter.issue(t, nil)
	self, selfKey := selfSigned(t, nil)
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: selfKey.Public(), Use: "sig"}}}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		srv := mtlsServer(t, proto == "HTTP/2.0", pool(root.cert), nil, jwks)
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			name := proto + "/" + map[uint16]string{tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}[version]
			roundTrip(t, name, srv, version, proto, leaf, inter.cert, leafKey, self, selfKey)
		}
	}
}

// roundTrip runs the three clients against one server: none, a CA-issued
// certificate with its intermediate, a registered self-signed certificate.
func roundTrip(t *testing.T, name string, srv *httptest.Server, version uint16, proto string,
	leaf, inter *x509.Certificate, leafKey any, self *x509.Certificate, selfKey any) {
	t.Run(name+"/without a certificate still connects", func(t *testing.T) {
		if got := call(t, srv, version, nil, nil); got["certificate"] != "none" || got["proto"] != proto {
			t.Fatalf("got %v", got)
		}
	})
	t.Run(name+"/tls_client_auth with a CA-issued certificate and its intermediate", func(t *testing.T) {
		got := call(t, srv, version, []*x509.Certificate{leaf, inter}, leafKey)
		if got["certificate"] != SourceTLS || got["tls_client_auth"] != "ok" || got["x5t#S256"] != Thumbprint(leaf) || got["proto"] != proto {
			t.Fatalf("got %v", got)
		}
		if !strings.Contains(got["self_signed_tls_client_auth"], "not among the client's registered keys") {
			t.Fatalf("self_signed_tls_client_auth with an unregistered key: %v", got)
		}
	})
	t.Run(name+"/self_signed_tls_client_auth with a registered self-signed certificate", func(t *testing.T) {
		got := call(t, srv, version, []*x509.Certificate{self}, selfKey)
		if got["certificate"] != SourceTLS || got["self_signed_tls_client_auth"] != "ok" || got["x5t#S256"] != Thumbprint(self) {
			t.Fatalf("got %v", got)
		}
		if !strings.Contains(got["tls_client_auth"], "not trusted") {
			t.Fatalf("tls_client_auth with a self-signed certificate: %v", got)
		}
	})
}

// Naming the client CAs in the CertificateRequest makes Go clients (and
// other careful TLS stacks) withhold a certificate from another issuer, so a
// deployment that serves self_signed_tls_client_auth clients must not.
func TestTLSRoundTripAdvertisedClientCAsWithholdSelfSignedCertificate(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, leafKey := ca.issue(t, nil)
	self, selfKey := selfSigned(t, nil)
	srv := mtlsServer(t, false, pool(ca.cert), pool(ca.cert), nil)
	if got := call(t, srv, tls.VersionTLS13, []*x509.Certificate{leaf}, leafKey); got["tls_client_auth"] != "ok" {
		t.Fatalf("CA-issued certificate: %v", got)
	}
	if got := call(t, srv, tls.VersionTLS13, []*x509.Certificate{self}, selfKey); got["certificate"] != "none" {
		t.Fatalf("self-signed certificate with advertised CAs: %v", got)
	}
}

// A TLS-terminating proxy in front (as nginx with ssl_verify_client
// optional_no_ca and proxy_set_header X-SSL-Client-Cert
// $ssl_client_escaped_cert): the upstream believes the header because the
// proxy's address is trusted, and the proxy overwrites whatever the client
// sent.
func TestClientCertHeaderRoundTripThroughTLSTerminatingProxy(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, leafKey := ca.issue(t, nil)
	forged, _ := selfSigned(t, nil)

	source, err := NewCertificateSource("X-SSL-Client-Cert", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	if err != nil {
		t.Fatal(err)
	}
	auth := NewAuthenticator(pool(ca.cert), fixedClock)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := source.FromRequest(r)
		out := map[string]string{"certificate": "none"}
		switch {
		case err != nil:
			out["error"] = err.Error()
		case got.Certificate != nil:
			out["certificate"] = got.Certificate.Source
			out["x5t#S256"] = Thumbprint(got.Certificate.Leaf)
			out["tls_client_auth"] = "ok"
			if err := auth.TLSClientAuth(got.Certificate, subjectDN); err != nil {
				out["tls_client_auth"] = err.Error()
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(upstream.Close)
	target, _ := url.Parse(upstream.URL)

	proxy := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Del("X-SSL-Client-Cert")
		if st := pr.In.TLS; st != nil && len(st.PeerCertificates) > 0 {
			pr.Out.Header.Set("X-SSL-Client-Cert", url.PathEscape(pemOf(st.PeerCertificates[0])))
		}
	}})
	proxy.TLS = RequestClientCertificates(nil, nil)
	proxy.StartTLS()
	t.Cleanup(proxy.Close)

	withForgedHeader := func(t *testing.T, chain []*x509.Certificate, key any) map[string]string {
		cfg := proxy.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		if len(chain) > 0 {
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{chain[0].Raw}, PrivateKey: key, Leaf: chain[0]}}
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer client.CloseIdleConnections()
		req, _ := http.NewRequest(http.MethodGet, proxy.URL, nil)
		req.Header.Set("X-SSL-Client-Cert", url.PathEscape(pemOf(forged)))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := withForgedHeader(t, []*x509.Certificate{leaf}, leafKey); got["certificate"] != SourceHeader || got["tls_client_auth"] != "ok" || got["x5t#S256"] != Thumbprint(leaf) {
		t.Fatalf("with a certificate: %v", got)
	}
	if got := withForgedHeader(t, nil, nil); got["certificate"] != "none" {
		t.Fatalf("without a certificate, the client's own header got through: %v", got)
	}
}
