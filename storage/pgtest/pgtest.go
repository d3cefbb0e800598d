package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage/postgres"
)

// EnvURL names the environment variable holding the URL of the server that
// test databases are created on; its user must be allowed to create
// databases.
const EnvURL = "STRONGROOM_TEST_DATABASE_URL"

// DefaultURL is used when EnvURL is unset: a local server with trust
// authentication, as in CI.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// timeout bounds each administrative step (connect, create, migrate, drop).
const timeout = 30 * time.Second

// ServerURL returns the URL of the test server (EnvURL or DefaultURL).
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates a fresh database with every migration applied,
// registers its removal with t.Cleanup and returns its URL. The removal
// terminates connections still open (DROP DATABASE ... WITH (FORCE)), but
// tests should close their pools first; cleanups run last-registered first,
// so a pool opened after NewDatabase and closed by its own t.Cleanup is.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dbURL := NewEmptyDatabase(t)
	if err := migrate(dbURL); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dbURL
}

// NewEmptyDatabase is NewDatabase without the migrations, for testing them.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	name, dbURL, err := createDatabase()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return dbURL
}

// Recycler hands out migrated databases and reuses them: when the test
// that got one ends, its tables are emptied (TRUNCATE) and the database
// waits for the next test. Emptying a database takes a fraction of the time
// of creating one, so a suite of many small tests, each wanting a database
// of its own, runs several times faster. Each database serves one test at a
// time, so tests cannot see each other's rows or notifications.
type Recycler struct {
	mu   sync.Mutex
	free []string // URLs ready for use
	all  []string // names, to drop at the end
}

// NewRecycler returns a Recycler whose databases are dropped when t (and so
// every subtest of t) has finished.
func NewRecycler(t testing.TB) *Recycler {
	t.Helper()
	r := &Recycler{}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, name := range r.all {
			if err := dropDatabase(name); err != nil {
				t.Errorf("pgtest: %v", err)
			}
		}
		r.all, r.free = nil, nil
	})
	return r
}

// Database returns the URL of an empty, migrated database that is t's alone
// until t ends. Close every pool on it before then (a t.Cleanup registered
// after calling Database runs first).
func (r *Recycler) Database(t testing.TB) string {
	t.Helper()
	r.mu.Lock()
	var dbURL string
	if n := len(r.free); n > 0 {
		dbURL, r.free = r.free[n-1], r.free[:n-1]
	}
	r.mu.Unlock()
	if dbURL == "" {
		name, u, err := createDatabase()
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		r.mu.Lock()
		r.all = append(r.all, name)
		r.mu.Unlock()
		if err := migrate(u); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		dbURL = u
	}
	t.Cleanup(func() {
		if err := truncate(dbURL); err != nil {
			t.Errorf("pgtest: empty database for reuse: %v", err)
			return // not reused; dropped at the end
		}
		r.mu.Lock()
		r.free = append(r.free, dbURL)
		r.mu.Unlock()
	})
	return dbURL
}

// createDatabase creates a database named strongroom_test_<random hex> and
// returns its name and URL.
func createDatabase() (name, dbURL string, err error) {
	server := ServerURL()
	var b [8]byte
	_, _ = rand.Read(b[:])
	name = "strongroom_test_" + hex.EncodeToString(b[:])
	dbURL, err = withDatabase(server, name)
	if err != nil {
		return "", "", err
	}
	err = admin(func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+name)
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	return name, dbURL, nil
}

func dropDatabase(name string) error {
	err := admin(func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	})
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// admin runs fn on a connection to the test server.
func admin(fn func(ctx context.Context, conn *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	server := ServerURL()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("cannot reach the test PostgreSQL server %s (set %s to a server where the user may create databases): %w",
			redact(server), EnvURL, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	return fn(ctx, conn)
}

func migrate(dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("open test database: %w", err)
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return fmt.Errorf("migrate test database: %w", err)
	}
	return nil
}

// truncate empties every table of the database except schema_migrations,
// then puts back the rows a migrated database starts with (the audit chain
// head at the genesis hash, 0014_audit_chain.sql).
func truncate(dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var tables string
	err = conn.QueryRow(ctx, `
SELECT coalesce(string_agg(format('%I.%I', schemaname, tablename), ', '), '')
FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`).Scan(&tables)
	if err != nil || tables == "" {
		return err
	}
	if _, err = conn.Exec(ctx, "TRUNCATE "+tables); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `INSERT INTO audit_chain (last_id, last_hash) VALUES (0, decode(repeat('00', 32), 'hex'))`)
	return err
}

// withDatabase returns server with its database replaced by name; server is
// a postgres:// URL or a keyword/value connection string.
func withDatabase(server, name string) (string, error) {
	if !strings.Contains(server, "://") {
		return server + " dbname=" + name, nil // a later keyword wins
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", errors.New("invalid " + EnvURL + " (not printed: it may hold a password)")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// redact hides the password of a URL for error messages.
func redact(server string) string {
	u, err := url.Parse(server)
	if err != nil || !strings.Contains(server, "://") {
		return "(" + EnvURL + ")"
	}
	return u.Redacted()
}
