package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/web"
)

const (
	// nodeDir holds the relying-party scripts and their package-lock.json.
	nodeDir = "node"
	// installStamp, inside node_modules, records the SHA-256 of the
	// package-lock.json that node_modules was installed from.
	installStamp = ".strongroom-package-lock.sha256"
	// npmTimeout bounds `npm ci` (a fresh machine downloads oauth4webapi).
	npmTimeout = 3 * time.Minute
	// scriptTimeout bounds one relying-party script, login included.
	scriptTimeout = 30 * time.Second

	testUsername = "alice"
	testPassword = "correct horse battery staple"
	// redirectURI is the relying party's callback; the harness's browser
	// stops there, so nothing needs to listen on it.
	redirectURI = "https://app.example.test/callback"
)

func TestMain(m *testing.M) {
	if err := installNodeModules(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/interop:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// installNodeModules runs `npm ci` in nodeDir unless node_modules was
// installed from the current package-lock.json. Node and npm are required:
// their absence is an error, never a skip.
func installNodeModules() error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node is not installed (apt-get install -y nodejs npm; .ci/run does this)")
	}
	lock, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("read the relying party's lock file: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(nodeDir, "node_modules", installStamp)
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("npm is not installed (apt-get install -y npm; .ci/run does this)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in e2e/interop/node (timeout %v): %w", npmTimeout, err)
	}
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		return fmt.Errorf("record the installed lock file: %w", err)
	}
	return nil
}

// testCA is a throwaway certificate authority for the server's certificate
// and, for tls_client_auth, the relying party's.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// file is the CA certificate as PEM on disk (NODE_EXTRA_CA_CERTS).
	file string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := newECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Strongroom interop test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, file: file}
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// pool is a certificate pool holding the CA.
func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue signs a leaf certificate for subject: a server certificate for
// 127.0.0.1, or a client certificate.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, server bool) (der []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	key = newECKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// serverTLS is the server's TLS configuration: a certificate for 127.0.0.1
// signed by the CA. Client certificates are not requested; a test of
// tls_client_auth asks for them in startTLS's mutate.
func (ca *testCA) serverTLS(t *testing.T) *tls.Config {
	t.Helper()
	der, key := ca.issue(t, pkix.Name{CommonName: "127.0.0.1"}, true)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// clientCertificatePEM issues a client certificate for subject and returns
// it and its private key as PEM, the input of tls-client-auth-par-pkce.mjs.
func (ca *testCA) clientCertificatePEM(t *testing.T, subject pkix.Name) (certPEM, keyPEM string) {
	t.Helper()
	der, key := ca.issue(t, subject, false)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// env is a running server that serves HTTPS with a certificate from its
// test CA, with one end user (testUsername).
type env struct {
	*servertest.Env
	t      *testing.T
	ca     *testCA
	userID string
}

// startTLS runs the real server on a fresh PostgreSQL database, serving
// HTTPS at https://127.0.0.1:PORT (its issuer) with a certificate from a
// new test CA. mutate, when non-nil, may change the configuration first; it
// gets the CA, e.g. to request client certificates signed by it:
//
//	c.TLS.ClientAuth, c.TLS.ClientCAs = tls.VerifyClientCertIfGiven, ca.pool()
func startTLS(t *testing.T, mutate func(c *server.Config, ca *testCA)) *env {
	t.Helper()
	ca := newTestCA(t)
	se := servertest.Start(t, func(c *server.Config) {
		c.TLS = ca.serverTLS(t)
		if mutate != nil {
			mutate(c, ca)
		}
	})
	if !strings.HasPrefix(se.Issuer, "https://") {
		t.Fatalf("issuer %s: want the server on HTTPS", se.Issuer)
	}
	e := &env{Env: se, t: t, ca: ca}
	e.userID = e.createUser(testUsername, testPassword)
	return e
}

// createUser stores a user with password pw and returns its id.
func (e *env) createUser(username, pw string) string {
	e.t.Helper()
	return e.CreateUser(e.t, username, pw)
}

// rpOutcome is how a relying-party script ended: exactly one of Result (the
// script's result object, for the test to decode) and Error is set.
type rpOutcome struct {
	Result json.RawMessage `json:"result"`
	Error  *rpError        `json:"error"`
}

// rpError is an error as lib.mjs's describeError reports it: the class
// oauth4webapi threw, its code, and the OAuth error the server sent.
type rpError struct {
	Name             string            `json:"name"`
	Message          string            `json:"message"`
	Code             string            `json:"code"`
	Status           int               `json:"status"`
	Error            string            `json:"error"`
	ErrorDescription string            `json:"error_description"`
	Challenges       []json.RawMessage `json:"challenges"`
}

// is reports whether oauth4webapi surfaced an OAuth error answer from the
// server with this HTTP status and error code (as a ResponseBodyError, or
// a WWWAuthenticateChallengeError when the answer carries a challenge).
func (r *rpError) is(status int, oauthError string) bool {
	return r != nil && r.Status == status && r.Error == oauthError &&
		(r.Name == "ResponseBodyError" || r.Name == "WWWAuthenticateChallengeError")
}

// String names the error for failure messages.
func (r *rpError) String() string {
	if r == nil {
		return "<no error>"
	}
	return fmt.Sprintf("%s %s (HTTP %d, %s: %s; challenges %s) %s", r.Name, r.Code, r.Status, r.Error, r.ErrorDescription, r.Challenges, r.Message)
}

// runRP runs node/script with input (one JSON line on stdin), drives the
// login page whenever the script asks, and returns how the script ended.
// It fails t when the script breaks the harness protocol.
func (e *env) runRP(t *testing.T, script string, input any) rpOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+e.ca.file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node %s: %v", script, err)
	}
	send := func(v any) {
		line, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stdin.Write(append(line, '\n')); err != nil {
			t.Errorf("write to %s: %v", script, err)
		}
	}
	send(input)

	var out *rpOutcome
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for lines.Scan() {
		var msg struct {
			Ask string `json:"ask"`
			URL string `json:"url"`
			rpOutcome
		}
		if err := json.Unmarshal(lines.Bytes(), &msg); err != nil {
			t.Errorf("%s wrote a line that is not JSON: %q", script, lines.Text())
			continue
		}
		switch {
		case msg.Ask == "login":
			send(map[string]string{"callback": e.login(t, msg.URL)})
		case msg.Ask != "":
			t.Errorf("%s asked for %q, which the harness does not answer", script, msg.Ask)
			send(map[string]string{})
		case msg.Result != nil || msg.Error != nil:
			out = &msg.rpOutcome
		}
	}
	_ = stdin.Close()
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", script, stderr.String())
	}
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %v", script, scriptTimeout)
	case out == nil:
		t.Fatalf("%s ended without a result or error line: %v", script, waitErr)
	case out.Error != nil && waitErr == nil, out.Error == nil && waitErr != nil:
		t.Fatalf("%s: exit status %v does not match its last line (error: %s)", script, waitErr, out.Error)
	}
	return *out
}

// result decodes a script's result into v; an error line fails the test.
func (o rpOutcome) result(t *testing.T, v any) {
	t.Helper()
	if o.Error != nil {
		t.Fatalf("the relying party failed: %s", o.Error)
	}
	if err := json.Unmarshal(o.Result, v); err != nil {
		t.Fatalf("decode the relying party's result %s: %v", o.Result, err)
	}
}

// login plays the end user's browser: it follows authURL to the login page,
// signs in as testUsername, allows the consent page if one is shown, and
// returns the redirect to the client (the callback URL with code, state and
// iss).
func (e *env) login(t *testing.T, authURL string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.ca.pool(), MinVersion: tls.VersionTLS12}}
	defer tr.CloseIdleConnections()
	issuer, err := url.Parse(e.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host != issuer.Host { // stop at the client's redirect URI
				return http.ErrUseLastResponse
			}
			return nil
		}}
	page := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("browser: read %s: %v", resp.Request.URL, err)
		}
		return resp, string(body)
	}

	resp, body := page(browser.Get(authURL))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != web.PathLogin {
		t.Fatalf("want the login page, got %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	form := formFields(e.t, body)
	form.Set("username", testUsername)
	form.Set("password", testPassword)
	resp, body = page(browser.PostForm(e.Issuer+web.PathLogin, form))
	if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == web.PathConsent {
		form = formFields(e.t, body)
		form.Set("decision", "allow")
		resp, body = page(browser.PostForm(e.Issuer+web.PathConsent, form))
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), redirectURI) {
		t.Fatalf("want a redirect to the client, got %d at %s (Location %q): %s",
			resp.StatusCode, resp.Request.URL, resp.Header.Get("Location"), body)
	}
	return resp.Header.Get("Location")
}

// formFields returns the named input fields (with values) of page.
var formFields = servertest.FormFields
