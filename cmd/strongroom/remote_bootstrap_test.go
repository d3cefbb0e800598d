package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// bootCA is a throwaway certificate authority writing PEM files.
type bootCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newBootCA(t *testing.T, name string) *bootCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &bootCA{cert: cert, key: key, dir: t.TempDir()}
}

func (ca *bootCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// file writes the CA's certificate and returns its path.
func (ca *bootCA) file(t *testing.T) string {
	t.Helper()
	f := filepath.Join(ca.dir, "ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// issue returns a leaf for cn (a server certificate for 127.0.0.1, or a
// client certificate) and the paths of its PEM certificate and key.
func (ca *bootCA) issue(t *testing.T, cn string, serverCert bool) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if serverCert {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(ca.dir, cn+".crt"), filepath.Join(ca.dir, cn+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certFile, keyFile
}

// TestRemoteModeBootstrapsItsOwnAdminToken drives a real server over TLS
// (a private CA) with its admin listener: the CLI fetches its own token
// with the client credentials grant (--client-id, --client-secret-file,
// --issuer), trusting --ca-file for the token endpoint and the admin API;
// a wrong secret fails in one clear sentence without the secret; without
// --ca-file the certificate is refused; the openapi.yaml is served there
// without a token.
func TestRemoteModeBootstrapsItsOwnAdminToken(t *testing.T) {
	ca := newBootCA(t, "Strongroom test CA")
	serverCert, _, _ := ca.issue(t, "127.0.0.1", true)
	srv := servertest.Start(t, func(c *server.Config) {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}
	})
	adminURL := srv.StartAdmin(t, server.AdminOptions{})
	ops := &storage.Client{ID: "ops-cli", Name: "ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{authz.AdminScope},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
	secret := srv.CreateClient(t, ops)
	dir := t.TempDir()
	secretFile, wrongFile := filepath.Join(dir, "ops.secret"), filepath.Join(dir, "wrong.secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongFile, []byte("not-the-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := ca.file(t)
	args := func(secretFile string, extra ...string) []string {
		return append([]string{"clients", "list", "-o", "json", "--endpoint", adminURL, "--client-id", ops.ID,
			"--client-secret-file", secretFile, "--issuer", srv.Issuer}, extra...)
	}

	r := mustRun(t, env{}, "", args(secretFile, "--ca-file", caFile)...)
	if !strings.Contains(r.out, `"ops-cli"`) {
		t.Fatalf("clients list with a fetched token does not list ops-cli: %s", r.out)
	}

	r = run(t, env{}, "", args(wrongFile, "--ca-file", caFile)...)
	wantFail(t, r, exitFailure, "wrong client id or secret")
	if strings.Contains(r.errOut, "not-the-secret") || strings.Contains(r.errOut, "oauth2:") || strings.Count(r.errOut, ":") > 3 {
		t.Errorf("wrong secret: the error is not one clear sentence: %q", r.errOut)
	}

	t.Logf("wrong secret: %s", r.errOut)
	r = run(t, env{}, "", args(secretFile)...)
	wantFail(t, r, exitFailure, "certificate")
	t.Logf("without --ca-file: %s", r.errOut)

	wantFail(t, run(t, env{}, "", "clients", "list", "--endpoint", adminURL, "--client-id", "ops-cli"), exitUsage, "--client-secret-file")
	wantFail(t, run(t, env{}, "", "clients", "list", "--client-id", "ops-cli"), exitUsage, "used only with --endpoint")
	wantFail(t, run(t, env{}, "", "clients", "list", "--endpoint", adminURL, "--cert", "x.crt"), exitUsage, "--cert and --key")

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get(adminURL + "/admin/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, api.OpenAPI) {
		t.Errorf("openapi.yaml without a token: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestRemoteModeClientCertificateReachesMTLSOnlyAdmin: against an admin
// listener that requires a client certificate (serve --admin-client-ca),
// --cert/--key alone authenticate the operator (recorded as mtls:<CN>,
// source admin-api); without them the handshake fails.
func TestRemoteModeClientCertificateReachesMTLSOnlyAdmin(t *testing.T) {
	ca, opsCA := newBootCA(t, "Strongroom test CA"), newBootCA(t, "Ops CA")
	serverCert, _, _ := ca.issue(t, "127.0.0.1", true)
	_, certFile, keyFile := opsCA.issue(t, "ops-laptop", false)
	srv := servertest.Start(t, func(c *server.Config) {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}
	})
	adminURL := srv.StartAdmin(t, server.AdminOptions{ClientCAs: opsCA.pool()})
	caFile := ca.file(t)
	remote := []string{"--endpoint", adminURL, "--ca-file", caFile, "--cert", certFile, "--key", keyFile}

	mustRun(t, env{}, "secret-password-1\n", append([]string{"users", "create", "--username", "frank", "--password-stdin"}, remote...)...)
	r := mustRun(t, env{}, "", append([]string{"audit", "list", "-o", "json", "--by", "mtls:ops-laptop"}, remote...)...)
	var evs []authzadmin.AuditEvent
	if err := json.Unmarshal([]byte(r.out), &evs); err != nil {
		t.Fatalf("audit list: %v %s", err, r.out)
	}
	created := false
	for _, ev := range evs {
		if ev.Actor == "mtls:ops-laptop" && ev.Details["source"] == authzadmin.SourceAdminAPI && strings.HasPrefix(ev.Action, "user.") {
			created = true
		}
	}
	if !created {
		t.Errorf("no user change recorded by mtls:ops-laptop with source admin-api: %s", r.out)
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("some-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, env{}, "", "clients", "list", "--endpoint", adminURL, "--ca-file", caFile, "--token-file", tokenFile)
	wantFail(t, r, exitFailure, "cannot reach the admin API") // the TLS alert or an HTTP/2 connection failure, by timing
	t.Logf("without --cert: %s", r.errOut)
}

// TestRemoteModeFetchesAdminTokenWithClientCertificate: a tls_client_auth
// admin client needs no secret file: --client-id with --cert/--key and
// --issuer fetch the admin token by presenting the certificate at the
// token endpoint (RFC 8705); a certificate the client is not registered
// for is refused in one sentence naming --cert.
func TestRemoteModeFetchesAdminTokenWithClientCertificate(t *testing.T) {
	ca, opsCA := newBootCA(t, "Strongroom test CA"), newBootCA(t, "Ops CA")
	serverCert, _, _ := ca.issue(t, "127.0.0.1", true)
	_, certFile, keyFile := opsCA.issue(t, "ops-robot", false)
	_, otherCert, otherKey := opsCA.issue(t, "someone-else", false)
	srv := servertest.Start(t, func(c *server.Config) {
		c.TLS = mtls.RequestClientCertificates(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}, nil)
		c.ClientCAs = opsCA.pool()
	})
	adminURL := srv.StartAdmin(t, server.AdminOptions{})
	ops := &storage.Client{ID: "ops-mtls", Name: "ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{authz.AdminScope},
		TokenEndpointAuthMethod: storage.AuthMethodTLSClientAuth, AccessTokenFormat: storage.TokenFormatOpaque,
		Metadata: storage.ClientMetadata{TLSClientAuthSubjectDN: "CN=ops-robot"}}
	srv.CreateClient(t, ops)
	caFile := ca.file(t)
	args := func(cert, key string) []string {
		return []string{"clients", "list", "-o", "json", "--endpoint", adminURL, "--client-id", ops.ID,
			"--cert", cert, "--key", key, "--issuer", srv.Issuer, "--ca-file", caFile}
	}
	r := mustRun(t, env{}, "", args(certFile, keyFile)...)
	if !strings.Contains(r.out, `"ops-mtls"`) {
		t.Fatalf("clients list with a certificate-fetched token: %s", r.out)
	}
	r = run(t, env{}, "", args(otherCert, otherKey)...)
	wantFail(t, r, exitFailure, "--cert")
	wantFail(t, run(t, env{}, "", "clients", "list", "--endpoint", adminURL, "--client-id", ops.ID, "--issuer", srv.Issuer),
		exitUsage, "--cert/--key for a tls_client_auth client")
}
