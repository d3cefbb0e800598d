package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/user"
	"strings"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/usererr"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/postgres"
)

// Environment variables read by the commands.
const (
	envDatabaseURL = "DATABASE_URL"
	envSecret      = "STRONGROOM_SECRET" // #nosec G101 -- the name of the environment variable, not its value
)

// minSecretLen is the shortest system secret accepted, in bytes after
// decoding (authz.Config requires the same).
const minSecretLen = 32

// app is what every command is built on: the process's streams, logger and
// configuration sources. main assembles it; tests build one with buffers
// and a fake getenv.
type app struct {
	in          io.Reader
	out, errOut io.Writer
	log         *slog.Logger
	logTo       io.Writer // where serve's --log-format/--log-level logger writes; nil: keep log
	databaseURL string    // the persistent --database-url flag; DATABASE_URL when empty
	getenv      func(string) string
	httpClient  *http.Client // the admin API client in remote mode (--endpoint); nil: a default one
	actor       string       // the persistent --actor flag (operator)
	// currentUser looks up the OS account for the default actor; nil:
	// os/user.Current (tests replace it).
	currentUser func() (*user.User, error)
}

// dbURL returns the database URL from --database-url or DATABASE_URL.
func (a *app) dbURL() (string, error) {
	if a.databaseURL != "" {
		return a.databaseURL, nil
	}
	if u := a.getenv(envDatabaseURL); u != "" {
		return u, nil
	}
	return "", usageErrorf("no database configured: set %s or pass --database-url", envDatabaseURL)
}

// openPostgres opens the PostgreSQL store and checks that the database is
// reachable, without checking its schema (migrate needs exactly that).
func (a *app) openPostgres(ctx context.Context) (*postgres.Store, error) {
	dbURL, err := a.dbURL()
	if err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, dbURL, a.log) // its errors never quote the URL
	if err != nil {
		return nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return nil, usererr.New(err, "Cannot reach the database ("+innermost(err)+").",
			"Check that it runs and that "+envDatabaseURL+" (or --database-url) points at it.")
	}
	return st, nil
}

// openStore opens the store for a command that reads or writes data. It
// refuses a database whose schema lacks migrations this binary embeds, and
// says to run `strongroom migrate up`. Call the returned func to close it.
func (a *app) openStore(ctx context.Context) (storage.Store, func(), error) {
	st, err := a.openPostgres(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := postgres.CheckSchema(ctx, st.Pool()); err != nil {
		st.Close()
		if errors.Is(err, postgres.ErrSchemaBehind) && !strings.Contains(err.Error(), "strongroom migrate up") {
			err = fmt.Errorf("%w; run `strongroom migrate up`", err)
		}
		return nil, nil, err
	}
	return st, st.Close, nil
}

// systemSecret returns the decoded STRONGROOM_SECRET. The server keys its
// token HMACs and client-secret hashes with it (authz.Config.SystemSecret).
func (a *app) systemSecret() ([]byte, error) {
	key, err := parseSecret(a.getenv(envSecret))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envSecret, err)
	}
	return key, nil
}

// secretHasher returns the keyed hash of client secrets. Hashes stored by
// this tool verify on the server only if both run with the same
// STRONGROOM_SECRET.
func (a *app) secretHasher() (*authz.SecretHasher, error) {
	key, err := a.systemSecret()
	if err != nil {
		return nil, err
	}
	return authz.NewSecretHasher(key)
}

// parseSecret decodes a system secret given as hex or base64 (standard or
// URL alphabet, padded or not) and requires at least 32 bytes. A value made
// only of an even number of hex digits is read as hex (`openssl rand -hex
// 32`); anything else as base64 (`openssl rand -base64 32`). Surrounding
// whitespace is ignored. Errors never quote the value.
func parseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("not set; generate one with `openssl rand -base64 32`")
	}
	key, err := decodeSecret(s)
	if err != nil {
		return nil, err
	}
	if len(key) < minSecretLen {
		return nil, fmt.Errorf("too short: %d bytes after decoding, at least %d required; generate one with `openssl rand -base64 32`",
			len(key), minSecretLen)
	}
	return key, nil
}

func decodeSecret(s string) ([]byte, error) {
	if len(s)%2 == 0 && isHex(s) {
		return hex.DecodeString(s)
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.DecodeString(s); err == nil {
			return key, nil
		}
	}
	return nil, errors.New("not valid base64 or hex")
}

func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}
