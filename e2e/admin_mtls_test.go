package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue returns a leaf certificate for cn signed by ca: a server
// certificate for 127.0.0.1, or a client certificate.
func (ca *testCA) issue(t *testing.T, cn string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// TestAdminMTLS: the admin listener with a client CA (serve --admin-client-ca).
// The rule: the TLS handshake requires a certificate signed by that CA (no
// certificate, or one from another CA, never reaches the API); a request with
// a verified certificate and no Authorization header is authenticated by the
// certificate (actor mtls:<CN>); a request that carries an Authorization
// header is judged by its token alone (a bad token is a 401 even with a good
// certificate; a good token names its client).
func TestAdminMTLS(t *testing.T) {
	ca, other := newTestCA(t, "Strongroom ops CA"), newTestCA(t, "Someone else's CA")
	serverCert := ca.issue(t, "127.0.0.1", true)
	e := startWith(t, func(c *server.Config) {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeAdmin(ctx, ln, server.AdminOptions{ClientCAs: ca.pool()}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("admin API: %v", err)
		}
	})
	base := "https://" + ln.Addr().String()

	client := func(certs ...tls.Certificate) *admintest.Transport {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), Certificates: certs, MinVersion: tls.VersionTLS12}}
		t.Cleanup(tr.CloseIdleConnections)
		return admintest.NewTransport(t, base, tr)
	}
	send := func(tr *admintest.Transport, method, path, token string, body ...string) (*http.Response, []byte, error) {
		var rd io.Reader
		if len(body) > 0 {
			rd = strings.NewReader(body[0])
		}
		req, _ := http.NewRequest(method, base+path, rd)
		if rd != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := tr.Client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, data, nil
	}
	opsCert := ca.issue(t, "ops-laptop", false)
	good := client(opsCert)

	t.Run("ok/certificate-without-token", func(t *testing.T) {
		resp, body, err := send(good, "POST", "/admin/v1/keys/rotate", "", `{"alg":"ES256","force":true}`)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("rotate with a client certificate: %v %v %s", err, resp, body)
		}
		evs, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: "key.rotate"})
		if len(evs) != 1 || evs[0].Actor != "mtls:ops-laptop" || evs[0].SourceIP != "127.0.0.1" {
			t.Fatalf("audit %+v", evs)
		}
	})
	t.Run("ok/read-audited-with-certificate-name", func(t *testing.T) {
		resp, body, err := send(good, "GET", "/admin/v1/keys", "")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list keys with a client certificate: %v %v %s", err, resp, body)
		}
		evs, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminRead})
		if len(evs) != 1 || evs[0].Actor != "mtls:ops-laptop" || evs[0].Details["route"] != "/admin/v1/keys" || evs[0].Outcome != storage.OutcomeSuccess {
			t.Fatalf("read audit %+v", evs)
		}
	})
	// refused asserts that the listener turns the client away during the TLS
	// handshake. Under TLS 1.3 the client finishes its side of the handshake
	// before the server checks the certificate, so the refusal reaches the
	// client as the server's alert or as the connection closing under the
	// request, depending on timing. Either way: no HTTP answer, and nothing
	// served (the read audit does not grow).
	refused := func(t *testing.T, tr *admintest.Transport, what string) {
		t.Helper()
		before, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminRead})
		resp, _, err := send(tr, "GET", "/admin/v1/keys", "")
		if err == nil {
			t.Fatalf("%s: got HTTP %d, want the connection refused during the TLS handshake", what, resp.StatusCode)
		}
		after, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminRead})
		if len(after) != len(before) {
			t.Fatalf("%s: the request was served (read audit %d -> %d)", what, len(before), len(after))
		}
	}
	t.Run("fail/no-certificate", func(t *testing.T) {
		refused(t, client(), "without a client certificate")
	})
	t.Run("fail/certificate-from-another-ca", func(t *testing.T) {
		refused(t, client(other.issue(t, "intruder", false)), "with a certificate from another CA")
	})
	t.Run("fail/certificate-with-bad-token", func(t *testing.T) {
		resp, body, err := send(good, "GET", "/admin/v1/keys", "not-a-token")
		if err != nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("certificate + bad token: %v %v %s", err, resp, body)
		}
		evs, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminAuth})
		if len(evs) != 1 || evs[0].Actor != "anonymous" || evs[0].Outcome != storage.OutcomeFailure || strings.Contains(evs[0].Details["reason"], "not-a-token") {
			t.Fatalf("audit %+v", evs)
		}
	})
	t.Run("ok/certificate-with-good-token", func(t *testing.T) {
		token := tlsAdminToken(t, e, ca)
		resp, body, err := send(good, "POST", "/admin/v1/keys/rotate", token, `{"alg":"RS256","force":true}`)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("certificate + good token: %v %v %s", err, resp, body)
		}
		evs, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: "key.rotate"})
		if len(evs) != 2 || !strings.HasPrefix(evs[0].Actor, "client:") {
			t.Fatalf("audit %+v", evs)
		}
	})
}

// tlsAdminToken registers an operator client and gets a strongroom:admin
// token from the server's public listener, which serves HTTPS here.
func tlsAdminToken(t *testing.T, e *env, ca *testCA) string {
	t.Helper()
	c := &storage.Client{Name: "ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{authz.AdminScope},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
	secret := e.createClient(c)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest("POST", strings.Replace(e.issuer, "http://", "https://", 1)+authz.PathToken,
		strings.NewReader("grant_type=client_credentials&scope="+authz.AdminScope))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}
