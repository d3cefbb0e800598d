package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// Localhost, set as cfg.Authz.Issuer by Start's mutate, names the issuer
// http://localhost:PORT instead of http://127.0.0.1:PORT: a WebAuthn relying
// party id must be a domain, not an IP address.
const Localhost = "http://localhost"

// BehindTLSProxy, set as cfg.Authz.Issuer by Start's mutate, names the
// issuer https://127.0.0.1:PORT while the server serves plain HTTP, as it
// does behind a TLS-terminating proxy (--insecure-http). Talk to Env.Addr.
const BehindTLSProxy = "https://127.0.0.1"

// Env is a running server.
type Env struct {
	Server *server.Server
	Issuer string
	// Addr is the base URL of the listener: http://127.0.0.1:PORT, or
	// https://127.0.0.1:PORT when the configuration sets TLS.
	Addr  string
	DBURL string
	logs  *syncBuffer
	cfg   server.Config
}

// Secrets returns the deployment's system secret and key-encryption key, for
// tests that run the CLI against the same database.
func (e *Env) Secrets() (systemSecret, kek []byte) { return e.cfg.Authz.SystemSecret, e.cfg.KEK }

// Logs returns everything the server has logged so far (JSON lines).
func (e *Env) Logs() string { return e.logs.String() }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs a server on a fresh, migrated database until tb ends. mutate,
// when non-nil, may adjust the configuration first. When it sets cfg.TLS the
// server serves HTTPS itself, and the default issuer and Env.Addr are
// https://127.0.0.1:PORT (the certificate must name 127.0.0.1).
func Start(tb testing.TB, mutate func(*server.Config)) *Env {
	tb.Helper()
	dbURL := pgtest.NewDatabase(tb)
	secret, kek := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(kek)
	cfg := server.Config{Authz: authz.Config{SystemSecret: secret}, DatabaseURL: dbURL, KEK: kek}
	if mutate != nil {
		mutate(&cfg)
	}
	e := start(tb, cfg)
	e.DBURL = dbURL
	return e
}

// StartPeer runs another node of the same deployment: same database, system
// secret and key-encryption key, its own listener and caches.
func (e *Env) StartPeer(tb testing.TB) *Env {
	tb.Helper()
	p := start(tb, e.cfg)
	p.DBURL = e.DBURL
	return p
}

func start(tb testing.TB, cfg server.Config) *Env {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	switch {
	case cfg.Authz.Issuer == Localhost || strings.HasPrefix(cfg.Authz.Issuer, Localhost+":"):
		cfg.Authz.Issuer = Localhost + ":" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	case cfg.Authz.Issuer == BehindTLSProxy || strings.HasPrefix(cfg.Authz.Issuer, BehindTLSProxy+":"):
		cfg.Authz.Issuer = "https://" + ln.Addr().String()
	default:
		cfg.Authz.Issuer = scheme + ln.Addr().String()
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		_ = ln.Close()
		tb.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return &Env{Server: srv, Issuer: cfg.Authz.Issuer, Addr: scheme + ln.Addr().String(), logs: logs, cfg: cfg}
}

// CreateClient registers c (an id is generated when empty) and returns the
// plain secret for confidential secret-based clients.
func (e *Env) CreateClient(tb testing.TB, c *storage.Client) string {
	tb.Helper()
	ctx := context.Background()
	secret := ""
	if !c.Public && c.TokenEndpointAuthMethod != storage.AuthMethodPrivateKeyJWT {
		s, err := authz.GenerateSecret()
		if err != nil {
			tb.Fatal(err)
		}
		h, _ := e.Server.OAuth.Hasher.Hash(ctx, []byte(s))
		c.Secrets = []storage.ClientSecret{{Hash: h, CreatedAt: time.Now()}}
		secret = s
	}
	if c.ID == "" {
		id, err := authz.GenerateSecret()
		if err != nil {
			tb.Fatal(err)
		}
		c.ID = "client-" + id[:10]
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt, c.UpdatedAt = time.Now(), time.Now()
	}
	if err := e.Server.Store.CreateClient(ctx, c); err != nil {
		tb.Fatal(err)
	}
	return secret
}

// CreateUser stores a user with an argon2id hash of pw (email
// <username>@example.test, verified; name Alice Example) and returns its id.
func (e *Env) CreateUser(tb testing.TB, username, pw string) string {
	tb.Helper()
	hash, err := password.Hash(pw, password.DefaultArgon2)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	u := &storage.User{ID: uuid.NewString(), Username: username, Email: username + "@example.test", EmailVerified: true,
		Name: "Alice Example", GivenName: "Alice", FamilyName: "Example", PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := e.Server.Store.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

// StartAdmin runs the server's admin listener (the admin API and
// /metrics) with opts on a loopback port of its own until tb ends, and
// returns its base URL (http://127.0.0.1:PORT; https:// when the server
// has TLS).
func (e *Env) StartAdmin(tb testing.TB, opts server.AdminOptions) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Server.ServeAdmin(ctx, ln, opts) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("admin listener: %v", err)
		}
	})
	scheme := "http://"
	if e.cfg.TLS != nil {
		scheme = "https://"
	}
	return scheme + ln.Addr().String()
}
