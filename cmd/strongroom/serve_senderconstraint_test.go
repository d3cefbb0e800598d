package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/server"
)

func TestServeSenderConstraintFlagsApply(t *testing.T) {
	caFile, _, _ := writeSelfSigned(t, t.TempDir())
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

	var cfg server.Config
	f := senderConstraintFlags{dpopNonce: "optional"}
	if err := f.apply(&cfg, false, noEnv); err != nil {
		t.Fatal(err)
	}
	if cfg.DPoPNonce != dpop.NonceOptional || cfg.ClientCAs != nil || cfg.ClientCertificates == nil || cfg.ClientCertificates.Header() != "" || cfg.JWKSURIAllowPrivate {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg = server.Config{}
	f = senderConstraintFlags{dpopNonce: "optional", jwksURIAllowPrivate: true}
	if err := f.apply(&cfg, false, noEnv); err != nil || !cfg.JWKSURIAllowPrivate {
		t.Fatalf("--jwks-uri-allow-private: %v %+v", err, cfg)
	}

	cfg = server.Config{TrustedProxies: proxies}
	f = senderConstraintFlags{tlsClientCA: caFile, clientCertHeader: "x-client-cert", dpopNonce: "required"}
	if err := f.apply(&cfg, false, noEnv); err != nil {
		t.Fatal(err)
	}
	if cfg.DPoPNonce != dpop.NonceRequired || cfg.ClientCAs == nil || cfg.ClientCertificates.Header() != "X-Client-Cert" {
		t.Fatalf("behind a proxy: %+v", cfg)
	}
	requestClientCertificates(&cfg) // no TLS of its own: nothing to change
	if cfg.TLS != nil {
		t.Fatal("TLS configured without --tls-cert")
	}

	base := &tls.Config{MinVersion: tls.VersionTLS12}
	cfg = server.Config{TLS: base}
	f = senderConstraintFlags{tlsClientCA: caFile, dpopNonce: "off"}
	if err := f.apply(&cfg, true, noEnv); err != nil {
		t.Fatal(err)
	}
	requestClientCertificates(&cfg)
	if cfg.DPoPNonce != dpop.NonceOff || cfg.TLS.ClientAuth != tls.RequestClientCert || cfg.TLS.ClientCAs != nil || base.ClientAuth != tls.NoClientCert {
		t.Fatalf("own TLS: client auth %v, advertised CAs %v, base changed %v", cfg.TLS.ClientAuth, cfg.TLS.ClientCAs, base.ClientAuth)
	}
}

// noEnv is a getenv with no variables set.
func noEnv(string) string { return "" }

// --redis-url, or REDIS_URL when the flag is set nowhere (and not with
// --dev, as DATABASE_URL), selects the Redis DPoP replay cache; neither:
// the database.
func TestServeRedisURLFlagApply(t *testing.T) {
	for _, tc := range []struct {
		name, flag, env, want string
		dev                   bool
	}{
		{"ok/none", "", "", "", false},
		{"ok/flag", "redis://127.0.0.1:6379/0", "", "redis://127.0.0.1:6379/0", false},
		{"ok/env", "", "rediss://:pw@cache.internal:6380", "rediss://:pw@cache.internal:6380", false},
		{"ok/flag-beats-env", "redis://a:6379", "redis://b:6379", "redis://a:6379", false},
		{"ok/dev-ignores-env", "", "redis://b:6379", "", true},
		{"ok/dev-takes-flag", "redis://a:6379", "redis://b:6379", "redis://a:6379", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.Config{Dev: tc.dev}
			f := senderConstraintFlags{dpopNonce: "optional", redisURL: tc.flag}
			getenv := func(k string) string {
				if k == envRedisURL {
					return tc.env
				}
				return ""
			}
			if err := f.apply(&cfg, false, getenv); err != nil {
				t.Fatal(err)
			}
			if cfg.RedisURL != tc.want {
				t.Errorf("RedisURL %q, want %q", cfg.RedisURL, tc.want)
			}
		})
	}
}

// A Redis URL that cannot be parsed is a usage error naming where it came
// from, without echoing it (it may hold a password); a valid URL to a Redis
// that does not answer fails the start, never falls back to the database.
func TestServeRejectsBadRedisURL(t *testing.T) {
	const pw = "s3cr3t-redis-pw"
	base := env{envDatabaseURL: "postgres://strongroom@127.0.0.1:1/strongroom?sslmode=disable", envSecret: newSecret(t), envKEK: newKEK(t)}
	insecure := []string{"serve", "--insecure-http", "--issuer", "http://127.0.0.1:8080", "--listen", "127.0.0.1:0"}
	withEnv := func(k, v string) env {
		e := env{}
		for a, b := range base {
			e[a] = b
		}
		e[k] = v
		return e
	}
	for name, tc := range map[string]struct {
		e    env
		args []string
		msg  string
	}{
		"fail/flag-scheme":    {base, append(append([]string{}, insecure...), "--redis-url", "http://:"+pw+"@cache:6379"), "--redis-url is not a valid Redis URL: use redis://"},
		"fail/flag-db":        {base, append(append([]string{}, insecure...), "--redis-url", "redis://:"+pw+"@cache:6379/notadb"), "--redis-url is not a valid Redis URL"},
		"fail/strongroom-env": {withEnv("STRONGROOM_REDIS_URL", "postgres://u:"+pw+"@cache"), insecure, "--redis-url is not a valid Redis URL"},
		"fail/redis-url-env":  {withEnv(envRedisURL, "cache.internal:6379"), insecure, "REDIS_URL is not a valid Redis URL"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := runServeOnce(t, tc.e, tc.args...)
			wantFail(t, r, exitUsage, tc.msg)
			if strings.Contains(r.output(), pw) {
				t.Errorf("output echoes the Redis password: %q", r.output())
			}
		})
	}

	t.Run("fail/unreachable", func(t *testing.T) {
		addr := freeAddr(t)
		r, _ := runServeOnce(t, prodEnv(t), "serve", "--insecure-http", "--issuer", "http://"+addr, "--listen", addr,
			"--redis-url", "redis://:"+pw+"@"+freeAddr(t)+"/0")
		wantFail(t, r, exitFailure, "DPoP replay cache: cannot reach Redis at 127.0.0.1:")
		if strings.Contains(r.output(), pw) {
			t.Errorf("output echoes the Redis password: %q", r.output())
		}
	})
}

func TestServeRejectsBadSenderConstraintFlags(t *testing.T) {
	certFile, keyFile, _ := writeSelfSigned(t, t.TempDir())
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e := env{envDatabaseURL: "postgres://strongroom@127.0.0.1:1/strongroom?sslmode=disable", envSecret: newSecret(t), envKEK: newKEK(t)}
	withTLS := []string{"serve", "--tls-cert", certFile, "--tls-key", keyFile, "--issuer", "https://a.example", "--listen", "127.0.0.1:0"}
	insecure := []string{"serve", "--insecure-http", "--issuer", "http://127.0.0.1:8080", "--listen", "127.0.0.1:0"}
	with := func(base []string, extra ...string) []string { return append(append([]string{}, base...), extra...) }

	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/dpop-nonce-unknown":     {with(insecure, "--dpop-nonce", "sometimes"), `--dpop-nonce "sometimes": must be required, optional or off`},
		"fail/dpop-nonce-empty":       {with(insecure, "--dpop-nonce", ""), `--dpop-nonce "": must be required, optional or off`},
		"fail/header-without-proxy":   {with(insecure, "--client-cert-header", "X-Client-Cert"), "--client-cert-header X-Client-Cert needs --trusted-proxy"},
		"fail/header-invalid-name":    {with(insecure, "--trusted-proxy", "10.0.0.1", "--client-cert-header", "X Client Cert"), `--client-cert-header: client certificate header "X Client Cert" is not a valid HTTP header name`},
		"fail/ca-without-tls":         {with(insecure, "--tls-client-ca", certFile), "--tls-client-ca needs client certificates to verify"},
		"fail/ca-dev":                 {[]string{"serve", "--dev", "--listen", "127.0.0.1:0", "--tls-client-ca", certFile}, "--tls-client-ca needs client certificates to verify"},
		"fail/ca-missing-file":        {with(withTLS, "--tls-client-ca", filepath.Join(t.TempDir(), "nope.pem")), "--tls-client-ca: client CA file: open "},
		"fail/ca-empty-file":          {with(withTLS, "--tls-client-ca", empty), "the file is empty"},
		"fail/ca-is-a-private-key":    {with(withTLS, "--tls-client-ca", keyFile), "only CERTIFICATE blocks belong in a client CA file"},
		"fail/ca-behind-proxy-no-pem": {with(insecure, "--trusted-proxy", "10.0.0.1", "--client-cert-header", "X-Client-Cert", "--tls-client-ca", empty), "the file is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := runServeOnce(t, e, tc.args...)
			wantFail(t, r, exitUsage, tc.msg)
			if strings.Contains(r.errOut, "mtls: invalid configuration") {
				t.Errorf("stderr %q repeats the package sentinel", r.errOut)
			}
		})
	}
}

// TestServeTLSRequestsClientCertificates: with --tls-client-ca the public
// listener asks for a client certificate, and a client without one still
// connects; without it, no certificate is asked for.
func TestServeTLSRequestsClientCertificates(t *testing.T) {
	certFile, keyFile, cert := writeSelfSigned(t, t.TempDir())
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	handshake := func(addr string) (asked bool) {
		t.Helper()
		var n atomic.Int32
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{
			RootCAs: roots, MinVersion: tls.VersionTLS12,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				n.Add(1)
				return &tls.Certificate{}, nil // no certificate
			},
		}}
		c, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			t.Fatalf("handshake without a client certificate: %v", err)
		}
		// TLS 1.3 finishes the client's side before the server reads its
		// certificate: a round trip proves the server accepted the handshake.
		_, _ = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		buf := make([]byte, 12)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf), "HTTP/1.1") {
			t.Fatalf("no HTTP answer after a handshake without a client certificate: %q %v", buf, err)
		}
		c.Close()
		return n.Load() > 0
	}

	for _, tc := range []struct {
		name  string
		extra []string
		asked bool
	}{
		{"ok/with-client-ca", []string{"--tls-client-ca", certFile}, true},
		{"ok/without-client-ca", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			s := startServe(t, prodEnv(t), append([]string{"serve", "--tls-cert", certFile, "--tls-key", keyFile, "--issuer", "https://" + addr, "--listen", addr}, tc.extra...)...)
			s.waitListening()
			if asked := handshake(addr); asked != tc.asked {
				t.Errorf("client certificate requested: %v, want %v\n%s", asked, tc.asked, s.dump())
			}
			if code := s.stop(); code != exitOK {
				t.Fatalf("serve exited %d\n%s", code, s.dump())
			}
		})
	}
}

// --mtls-base-url must be an absolute https URL (a usage error otherwise);
// a valid one reaches the server configuration without a trailing slash.
func TestServeMTLSBaseURLFlag(t *testing.T) {
	var cfg server.Config
	f := senderConstraintFlags{dpopNonce: "optional", mtlsBaseURL: "https://mtls.auth.example.com/"}
	if err := f.apply(&cfg, false, noEnv); err != nil || cfg.MTLSBaseURL != "https://mtls.auth.example.com" {
		t.Fatalf("MTLSBaseURL %q, %v", cfg.MTLSBaseURL, err)
	}
	e := env{envDatabaseURL: "postgres://strongroom@127.0.0.1:1/strongroom?sslmode=disable", envSecret: newSecret(t), envKEK: newKEK(t)}
	for name, tc := range map[string]struct{ url, msg string }{
		"fail/http":     {"http://mtls.auth.example.com", "--mtls-base-url: mTLS base URL \"http://mtls.auth.example.com\" must be an absolute https URL"},
		"fail/relative": {"mtls.auth.example.com", "must be an absolute https URL"},
		"fail/query":    {"https://mtls.auth.example.com/?x=1", "no user info, query or fragment"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := runServeOnce(t, e, "serve", "--insecure-http", "--issuer", "http://127.0.0.1:8080", "--listen", "127.0.0.1:0", "--mtls-base-url", tc.url)
			wantFail(t, r, exitUsage, tc.msg)
		})
	}
}
