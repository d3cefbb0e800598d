package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/storage/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serving is one in-process `strongroom serve` running in a goroutine.
type serving struct {
	t                *testing.T
	args             []string
	out, errOut, log *syncBuffer
	cancel           context.CancelFunc
	done             chan int // receives the exit code once
	code             int
	stopped          bool
}

// startServe runs `strongroom <args>` in-process with env e until stop (or
// the end of the test) cancels its context.
func startServe(t *testing.T, e env, args ...string) *serving {
	t.Helper()
	s := &serving{t: t, args: args, out: &syncBuffer{}, errOut: &syncBuffer{}, log: &syncBuffer{}, done: make(chan int, 1)}
	a := &app{
		in:     strings.NewReader(""),
		out:    s.out,
		errOut: s.errOut,
		log:    slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		getenv: func(k string) string { return e[k] },
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- execute(ctx, newRootCmd(a), args, s.errOut) }()
	t.Cleanup(func() {
		if !s.stopped {
			s.stop()
		}
	})
	return s
}

// dump is everything the command wrote, for failure messages.
func (s *serving) dump() string {
	return fmt.Sprintf("strongroom %s\nstdout:\n%s\nstderr:\n%s\nlog:\n%s",
		strings.Join(s.args, " "), s.out, s.errOut, s.log)
}

// waitFor polls cond until it holds; it fails the test when the command
// exits first or after 10 s.
func (s *serving) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		select {
		case code := <-s.done:
			s.stopped, s.code = true, code
			s.t.Fatalf("serve exited with %d while waiting for %s\n%s", code, what, s.dump())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s\n%s", what, s.dump())
		}
	}
}

// waitListening waits for the "strongroom listening" log line.
func (s *serving) waitListening() {
	s.t.Helper()
	s.waitFor("the listening log line", func() bool { return strings.Contains(s.log.String(), "strongroom listening") })
}

// stop cancels the context and returns the exit code.
func (s *serving) stop() int {
	s.t.Helper()
	if s.stopped {
		return s.code
	}
	s.cancel()
	select {
	case s.code = <-s.done:
	case <-time.After(25 * time.Second):
		s.t.Fatalf("serve did not return 25 s after its context was cancelled\n%s", s.dump())
	}
	s.stopped = true
	return s.code
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// newKEK returns a random key-encryption key, base64-encoded.
func newKEK(t *testing.T) string { return newSecret(t) }

// prodEnv is a complete production environment on a fresh, migrated database.
func prodEnv(t *testing.T) env {
	t.Helper()
	e := newEnv(t)
	e[envKEK] = newKEK(t)
	return e
}

// noRedirect is an HTTP client that returns redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// demoBlock is what `serve --dev` prints.
type demoBlock struct {
	issuer, discovery            string
	username, password           string
	confID, confSecret, publicID string
	authorizeURL                 string
	curlUser, curlSecret         string
	curlScope, curlURL           string
}

var (
	reIssuer    = regexp.MustCompile(`(?m)^\s+issuer\s+(\S+)$`)
	reDiscovery = regexp.MustCompile(`(?m)^\s+discovery\s+(\S+)$`)
	reUser      = regexp.MustCompile(`(?m)^\s+demo user\s+username (\S+)\s+password (\S+)$`)
	reConf      = regexp.MustCompile(`(?m)^\s+confidential client\s+client_id (\S+)\s+client_secret (\S+)$`)
	rePublic    = regexp.MustCompile(`(?m)^\s+public client\s+client_id (\S+) `)
	reAuthorize = regexp.MustCompile(`(?m)^\s+(http://\S+/oauth2/authorize\?\S+)$`)
	reCurl      = regexp.MustCompile(`(?m)^\s+curl -s -u ([^:\s]+):(\S+) -d grant_type=client_credentials -d scope=(\S+) (\S+)$`)
)

func parseDemo(t *testing.T, out string) demoBlock {
	t.Helper()
	find := func(re *regexp.Regexp) []string {
		t.Helper()
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the demo block lacks a line matching %s:\n%s", re, out)
		}
		return m
	}
	var d demoBlock
	d.issuer = find(reIssuer)[1]
	d.discovery = find(reDiscovery)[1]
	m := find(reUser)
	d.username, d.password = m[1], m[2]
	m = find(reConf)
	d.confID, d.confSecret = m[1], m[2]
	d.publicID = find(rePublic)[1]
	d.authorizeURL = find(reAuthorize)[1]
	m = find(reCurl)
	d.curlUser, d.curlSecret, d.curlScope, d.curlURL = m[1], m[2], m[3], m[4]
	return d
}

// startDev starts `serve --dev` on a free loopback port and returns the
// printed demo block.
func startDev(t *testing.T, extra ...string) (*serving, demoBlock) {
	t.Helper()
	s := startServe(t, env{}, append([]string{"serve", "--dev", "--listen", "127.0.0.1:0"}, extra...)...)
	s.waitFor("the demo block", func() bool { return reCurl.MatchString(s.out.String()) })
	s.waitListening()
	return s, parseDemo(t, s.out.String())
}

func TestServeDev(t *testing.T) {
	s, d := startDev(t)

	// The printed block.
	u, err := url.Parse(d.issuer)
	if err != nil || u.Scheme != "http" || u.Path != "" {
		t.Fatalf("issuer %q: %v", d.issuer, err)
	}
	if host, port, _ := net.SplitHostPort(u.Host); host != "127.0.0.1" || port == "0" || port == "" {
		t.Fatalf("issuer %q is not 127.0.0.1 with the picked port", d.issuer)
	}
	if d.discovery != d.issuer+"/.well-known/openid-configuration" {
		t.Errorf("discovery line %q", d.discovery)
	}
	if d.username != "demo" || len(d.password) < 12 {
		t.Errorf("demo user %q password %q", d.username, d.password)
	}
	if d.confID == "" || len(d.confSecret) < 32 || d.publicID == "" || d.publicID == d.confID {
		t.Errorf("clients: confidential %q/%q, public %q", d.confID, d.confSecret, d.publicID)
	}
	if d.curlUser != d.confID || d.curlSecret != d.confSecret || d.curlURL != d.issuer+"/oauth2/token" || d.curlScope != "openid" {
		t.Errorf("curl line does not use the printed client and token endpoint: -u %s:%s scope %s %s",
			d.curlUser, d.curlSecret, d.curlScope, d.curlURL)
	}
	if !strings.Contains(s.out.String(), "PKCE code_verifier ") {
		t.Errorf("no code_verifier printed:\n%s", s.out)
	}
	if !strings.Contains(s.log.String(), "generated a random key") {
		t.Errorf("dev mode did not say it generated its keys:\n%s", s.log)
	}

	// The discovery document satisfies a real OIDC client library.
	ctx := oidc.ClientContext(t.Context(), &http.Client{Timeout: 10 * time.Second})
	provider, err := oidc.NewProvider(ctx, d.issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s): %v", d.issuer, err)
	}
	if got := provider.Endpoint().TokenURL; got != d.issuer+"/oauth2/token" {
		t.Errorf("token endpoint %q", got)
	}
	if got := provider.Endpoint().AuthURL; got != d.issuer+"/oauth2/authorize" {
		t.Errorf("authorization endpoint %q", got)
	}

	// client_credentials with the printed confidential client.
	cc := clientcredentials.Config{
		ClientID: d.confID, ClientSecret: d.confSecret, TokenURL: provider.Endpoint().TokenURL,
		Scopes: []string{d.curlScope}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials with the printed client: %v", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Errorf("token %+v", tok)
	}
	// And a wrong secret is refused: the token above proves the printed one.
	bad := cc
	bad.ClientSecret = d.confSecret + "x"
	if _, err := bad.Token(ctx); err == nil {
		t.Error("client_credentials succeeded with a wrong secret")
	}

	// The printed authorize URL starts the login.
	resp, err := noRedirect.Get(d.authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET printed authorize URL: %d, want 303", resp.StatusCode)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path != "/login" || loc.Host != u.Host {
		t.Errorf("authorize redirects to %q, want %s/login...", resp.Header.Get("Location"), d.issuer)
	}

	// Graceful stop.
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d after cancellation, want 0\n%s", code, s.dump())
	}
	if s.errOut.String() != "" {
		t.Errorf("stderr after a clean stop: %q", s.errOut)
	}
	if _, err := http.Get(d.discovery); err == nil {
		t.Error("the server still answers after serve returned")
	}
}

func TestServePostgresConfiguredWithTheCLI(t *testing.T) {
	e := prodEnv(t)
	r := mustRun(t, e, "", "clients", "create", "--name", "Billing",
		"--grant-type", "client_credentials", "--auth-method", "client_secret_basic",
		"--scope", "billing:read billing:write", "--introspect", "-o", "json")
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(r.out), &created); err != nil || created.ClientID == "" || created.ClientSecret == "" {
		t.Fatalf("clients create -o json: %v\n%s", err, r.out)
	}
	mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice", "--password-stdin")

	addr := freeAddr(t)
	issuer := "http://" + addr
	s := startServe(t, e, "serve", "--insecure-http", "--issuer", issuer, "--listen", addr)
	s.waitListening()
	if s.out.String() != "" {
		t.Errorf("production serve printed to stdout: %q", s.out)
	}

	cc := clientcredentials.Config{
		ClientID: created.ClientID, ClientSecret: created.ClientSecret, TokenURL: issuer + "/oauth2/token",
		Scopes: []string{"billing:read"}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatalf("client_credentials with the CLI-printed secret: %v\n%s", err, s.dump())
	}

	form := url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, issuer+"/oauth2/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(created.ClientID), url.QueryEscape(created.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Iss      string `json:"iss"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d, %v", resp.StatusCode, err)
	}
	if !in.Active || in.ClientID != created.ClientID || in.Scope != "billing:read" || in.Iss != issuer {
		t.Errorf("introspection %+v", in)
	}

	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, s.dump())
	}
	if strings.Contains(s.log.String(), created.ClientSecret) || strings.Contains(s.log.String(), tok.AccessToken) {
		t.Error("the log holds the client secret or the access token")
	}
}

// writeSelfSigned writes a self-signed ECDSA P-256 certificate for
// 127.0.0.1 and its key (PKCS #8) into dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, cert := writeSelfSigned(t, t.TempDir())
	roots := x509.NewCertPool()
	roots.AddCert(cert)

	addr := freeAddr(t)
	issuer := "https://" + addr
	s := startServe(t, prodEnv(t), "serve", "--tls-cert", certFile, "--tls-key", keyFile, "--issuer", issuer, "--listen", addr)
	s.waitListening()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("HTTPS discovery: %v\n%s", err, s.dump())
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || doc.Issuer != issuer || doc.TokenEndpoint != issuer+"/oauth2/token" {
		t.Fatalf("discovery over HTTPS: %d %v %+v", resp.StatusCode, err, doc)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("connection state %+v", resp.TLS)
	}
	// go-oidc accepts it over HTTPS too.
	if _, err := oidc.NewProvider(oidc.ClientContext(t.Context(), client), issuer); err != nil {
		t.Errorf("oidc.NewProvider over HTTPS: %v", err)
	}
	// Plain HTTP on the TLS port gets no OIDC answer.
	if resp, err := http.Get("http://" + addr + "/.well-known/openid-configuration"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200: %s", body)
		}
	}

	dial := func(minV, maxV uint16) (*tls.Conn, error) {
		d := &tls.Dialer{
			NetDialer: &net.Dialer{Timeout: 5 * time.Second},
			// MinVersion is explicit: Go clients default to TLS 1.2, and a
			// client whose own range is empty fails without asking the server.
			Config: &tls.Config{RootCAs: roots, MinVersion: minV, MaxVersion: maxV},
		}
		c, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return nil, err
		}
		return c.(*tls.Conn), nil
	}
	for _, tc := range []struct {
		name       string
		minV, maxV uint16
		ok         bool
	}{
		{"ok/tls1.2", tls.VersionTLS12, tls.VersionTLS12, true},
		{"ok/tls1.3", tls.VersionTLS13, tls.VersionTLS13, true},
		{"fail/tls1.1-max", tls.VersionTLS10, tls.VersionTLS11, false},
		{"fail/tls1.0-only", tls.VersionTLS10, tls.VersionTLS10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dial(tc.minV, tc.maxV)
			if tc.ok {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				if v := c.ConnectionState().Version; v != tc.maxV {
					t.Errorf("negotiated %s", tls.VersionName(v))
				}
				c.Close()
				return
			}
			if err == nil {
				v := c.ConnectionState().Version
				c.Close()
				t.Fatalf("handshake succeeded with %s", tls.VersionName(v))
			}
			// The server refused (alert protocol_version), not the client.
			if !strings.Contains(err.Error(), "remote error") || !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("handshake error %q is not the server's protocol_version alert", err)
			}
		})
	}

	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, s.dump())
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	s, d := startDev(t)
	addr := strings.TrimPrefix(d.issuer, "http://")

	// A client that sends the headers and half of the body of a token
	// request, then stalls: the request is in flight.
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "grant_type=client_credentials&scope=openid"
	half := len(body) / 2
	basic := base64.StdEncoding.EncodeToString([]byte(d.confID + ":" + d.confSecret))
	head := "POST /oauth2/token HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Authorization: Basic " + basic + "\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the server read the headers

	s.cancel()

	// Shutdown has begun once the listener is closed...
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the listener still accepts connections 5 s after cancellation\n%s", s.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// ...but serve waits for the request in flight.
	select {
	case code := <-s.done:
		s.stopped, s.code = true, code
		t.Fatalf("serve returned (%d) while a request was in flight\n%s", code, s.dump())
	case <-time.After(300 * time.Millisecond):
	}

	// The client finishes its body and gets a real answer.
	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatalf("finishing the body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to the in-flight request: %v\n%s", err, s.dump())
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("in-flight token request: %d, %v", resp.StatusCode, err)
	}

	select {
	case code := <-s.done:
		s.stopped, s.code = true, code
		if code != exitOK {
			t.Fatalf("serve exited %d\n%s", code, s.dump())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not return after the in-flight request completed\n%s", s.dump())
	}
}

// runServeOnce runs one command that must fail fast: it is given 15 s.
func runServeOnce(t *testing.T, e env, args ...string) (result, string) {
	t.Helper()
	s := startServe(t, e, args...)
	select {
	case s.code = <-s.done:
		s.stopped = true
	case <-time.After(15 * time.Second):
		code := s.stop()
		t.Fatalf("still running after 15 s (exit %d once cancelled)\n%s", code, s.dump())
	}
	return result{code: s.code, out: s.out.String(), errOut: s.errOut.String()}, s.log.String()
}

func TestServeRejects(t *testing.T) {
	const (
		garbageSecret = "s3cr3t-GARBAGE-value!!"
		garbageKEK    = "k3k-GARBAGE-value!!"
		dbPassword    = "db-PASSWORD-value"
	)
	shortSecret := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	shortKEK := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	secret, kek := newSecret(t), newKEK(t)
	certFile, keyFile, _ := writeSelfSigned(t, t.TempDir())
	garbagePEM := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbagePEM, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A database URL that is never connected to: these checks come first.
	const unusedDB = "postgres://strongroom:" + dbPassword + "@127.0.0.1:1/strongroom?sslmode=disable"
	prod := func(over env) env {
		e := env{envDatabaseURL: unusedDB, envSecret: secret, envKEK: kek}
		for k, v := range over {
			if v == "" {
				delete(e, k)
			} else {
				e[k] = v
			}
		}
		return e
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // not defer: the parallel subtests run after this function returns
	busyAddr := busy.Addr().String()
	insecure := []string{"serve", "--insecure-http", "--issuer", "http://127.0.0.1:8080", "--listen", "127.0.0.1:0"}

	for name, tc := range map[string]struct {
		env  env
		args []string
		code int
		msg  string
	}{
		"fail/dev-listen-all-interfaces": {env{}, []string{"serve", "--dev", "--listen", "0.0.0.0:0"}, exitUsage, `loopback only (127.0.0.1 or [::1]), not "0.0.0.0"`},
		"fail/dev-listen-ipv6-any":       {env{}, []string{"serve", "--dev", "--listen", "[::]:0"}, exitUsage, "loopback only"},
		"fail/dev-listen-empty-host":     {env{}, []string{"serve", "--dev", "--listen", ":0"}, exitUsage, "loopback only"},
		"fail/dev-listen-public-ip":      {env{}, []string{"serve", "--dev", "--listen", "192.0.2.10:8080"}, exitUsage, `not "192.0.2.10"`},
		"fail/dev-listen-hostname":       {env{}, []string{"serve", "--dev", "--listen", "example.com:8080"}, exitUsage, `not "example.com"`},
		"fail/dev-listen-no-port":        {env{}, []string{"serve", "--dev", "--listen", "127.0.0.1"}, exitUsage, "--listen: address 127.0.0.1: missing port"},
		"fail/tls-cert-without-key":      {prod(nil), []string{"serve", "--tls-cert", certFile, "--issuer", "https://a.example"}, exitUsage, "--tls-cert and --tls-key go together"},
		"fail/tls-key-without-cert":      {prod(nil), []string{"serve", "--tls-key", keyFile, "--issuer", "https://a.example"}, exitUsage, "--tls-cert and --tls-key go together"},
		"fail/dev-with-tls":              {env{}, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile}, exitUsage, "drop --tls-cert/--tls-key"},
		"fail/plain-http-without-opt-in": {prod(nil), []string{"serve", "--issuer", "http://127.0.0.1:8080", "--listen", "127.0.0.1:0"}, exitUsage, "refusing to serve plain HTTP"},
		"fail/no-issuer":                 {prod(nil), []string{"serve", "--insecure-http", "--listen", "127.0.0.1:0"}, exitUsage, "--issuer is required without --dev"},
		"fail/secret-missing":            {prod(env{envSecret: ""}), insecure, exitUsage, "STRONGROOM_SECRET: not set"},
		"fail/secret-short":              {prod(env{envSecret: shortSecret}), insecure, exitUsage, "STRONGROOM_SECRET: too short: 16 bytes"},
		"fail/secret-garbage":            {prod(env{envSecret: garbageSecret}), insecure, exitUsage, "STRONGROOM_SECRET: not valid base64 or hex"},
		"fail/kek-missing":               {prod(env{envKEK: ""}), insecure, exitUsage, "STRONGROOM_KEK: keys: invalid key-encryption key: empty"},
		"fail/kek-wrong-length":          {prod(env{envKEK: shortKEK}), insecure, exitUsage, "STRONGROOM_KEK: keys: invalid key-encryption key: must decode to 32 bytes, got 16"},
		"fail/kek-garbage":               {prod(env{envKEK: garbageKEK}), insecure, exitUsage, "STRONGROOM_KEK: keys: invalid key-encryption key: not hex or base64"},
		"fail/dev-secret-garbage":        {env{envSecret: garbageSecret}, []string{"serve", "--dev", "--listen", "127.0.0.1:0"}, exitUsage, "STRONGROOM_SECRET: not valid base64 or hex"},
		"fail/dev-kek-garbage":           {env{envKEK: garbageKEK}, []string{"serve", "--dev", "--listen", "127.0.0.1:0"}, exitUsage, "STRONGROOM_KEK: keys: invalid key-encryption key: not hex or base64"},
		"fail/database-url-missing":      {prod(env{envDatabaseURL: ""}), insecure, exitUsage, "no database configured: set DATABASE_URL or pass --database-url"},
		"fail/database-url-garbage":      {prod(env{envDatabaseURL: "postgres://u:" + dbPassword + "@[::1"}), insecure, exitFailure, "invalid database URL"},
		"fail/access-token-lifespan-0":   {env{}, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--access-token-lifespan=0"}, exitUsage, "--access-token-lifespan must be positive"},
		"fail/refresh-lifespan-negative": {env{}, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--refresh-token-lifespan=-1h"}, exitUsage, "--refresh-token-lifespan must be positive"},
		"fail/code-lifespan-negative":    {prod(nil), append(insecure, "--authorization-code-lifespan=-1s"), exitUsage, "--authorization-code-lifespan must be positive"},
		"fail/id-token-lifespan-0":       {prod(nil), append(insecure, "--id-token-lifespan", "0s"), exitUsage, "--id-token-lifespan must be positive"},
		"fail/refresh-grace-negative":    {env{}, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--refresh-token-reuse-grace=-1s"}, exitUsage, "--refresh-token-reuse-grace must be between 0 and 1m0s"},
		"fail/refresh-grace-too-long":    {prod(nil), append(insecure, "--refresh-token-reuse-grace=2m"), exitUsage, "--refresh-token-reuse-grace must be between 0 and 1m0s"},
		"fail/duration-unparsable":       {env{}, []string{"serve", "--dev", "--access-token-lifespan", "ten minutes"}, exitUsage, `invalid argument "ten minutes" for "--access-token-lifespan"`},
		"fail/duration-without-unit":     {env{}, []string{"serve", "--dev", "--id-token-lifespan=600"}, exitUsage, `invalid argument "600" for "--id-token-lifespan"`},
		"fail/tls-cert-missing-file":     {prod(nil), []string{"serve", "--tls-cert", filepath.Join(t.TempDir(), "nope.crt"), "--tls-key", keyFile, "--issuer", "https://a.example", "--listen", "127.0.0.1:0"}, exitFailure, "load TLS certificate: open "},
		"fail/tls-cert-garbage":          {prod(nil), []string{"serve", "--tls-cert", garbagePEM, "--tls-key", keyFile, "--issuer", "https://a.example", "--listen", "127.0.0.1:0"}, exitFailure, "load TLS certificate"},
		"fail/tls-key-not-matching":      {prod(nil), []string{"serve", "--tls-cert", certFile, "--tls-key", certFile, "--issuer", "https://a.example", "--listen", "127.0.0.1:0"}, exitFailure, "load TLS certificate"},
		"fail/dev-listen-in-use":         {env{}, []string{"serve", "--dev", "--listen", busyAddr}, exitFailure, "listen: " + busyAddr + ": address already in use (another strongroom?): choose another address with --listen"},
		"fail/listen-in-use":             {prod(nil), []string{"serve", "--insecure-http", "--issuer", "http://" + busyAddr, "--listen", busyAddr}, exitFailure, "address already in use"},
		"fail/extra-argument":            {env{}, []string{"serve", "--dev", "now"}, exitUsage, `unknown command "now" for "strongroom serve"`},
		"fail/unknown-flag":              {env{}, []string{"serve", "--dev", "--port", "80"}, exitUsage, "unknown flag: --port"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, log := runServeOnce(t, tc.env, tc.args...)
			wantFail(t, r, tc.code, tc.msg)
			if tc.code == exitUsage && !strings.Contains(r.errOut, "Run 'strongroom serve --help' for usage.") {
				t.Errorf("stderr %q lacks the usage hint", r.errOut)
			}
			if r.out != "" {
				t.Errorf("stdout %q", r.out)
			}
			noSecretsIn(t, r.output()+log, tc.env, garbageSecret, garbageKEK, dbPassword, shortSecret, shortKEK)
		})
	}
}

// noSecretsIn fails when s holds any environment value or any of values.
func noSecretsIn(t *testing.T, s string, e env, values ...string) {
	t.Helper()
	for _, v := range e {
		values = append(values, v)
	}
	for _, v := range values {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("output holds the secret value %q:\n%s", v, s)
		}
	}
}

func TestServeRejectsDatabase(t *testing.T) {
	free := freeAddr(t)
	const dbPassword = "db-PASSWORD-value"
	for name, tc := range map[string]struct {
		dbURL func(t *testing.T) string
		msg   string
	}{
		"fail/unreachable": {
			func(*testing.T) string {
				return "postgres://strongroom:" + dbPassword + "@" + free + "/strongroom?sslmode=disable&connect_timeout=2"
			},
			"connection refused",
		},
		"fail/schema-behind": {
			func(t *testing.T) string { return pgtest.NewEmptyDatabase(t) },
			"run `strongroom migrate up`",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := env{envDatabaseURL: tc.dbURL(t), envSecret: newSecret(t), envKEK: newKEK(t)}
			addr := freeAddr(t)
			r, log := runServeOnce(t, e, "serve", "--insecure-http", "--issuer", "http://"+addr, "--listen", addr)
			wantFail(t, r, exitFailure, tc.msg)
			noSecretsIn(t, r.output()+log, e, dbPassword)
			// It did not start listening.
			if strings.Contains(log, "strongroom listening") {
				t.Errorf("serve listened on a bad database:\n%s", log)
			}
		})
	}
}
