package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage/pgtest"
)

func TestParseSecret(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11) // 33 bytes, exercises + / - _
	for name, in := range map[string]string{
		"ok/hex":             hex.EncodeToString(key),
		"ok/hex-upper":       strings.ToUpper(hex.EncodeToString(key)),
		"ok/base64-std":      base64.StdEncoding.EncodeToString(key),
		"ok/base64-raw-std":  base64.RawStdEncoding.EncodeToString(key[:32]) + "",
		"ok/base64-url":      base64.URLEncoding.EncodeToString(key),
		"ok/base64-raw-url":  base64.RawURLEncoding.EncodeToString(key[:32]),
		"ok/trailing-spaces": " " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseSecret(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key[:len(got)]) || len(got) < 32 {
				t.Errorf("decoded %x", got)
			}
		})
	}
	for name, tc := range map[string]struct{ in, msg string }{
		"fail/empty":       {"", "not set"},
		"fail/blank":       {"  \n", "not set"},
		"fail/short-b64":   {base64.StdEncoding.EncodeToString(key[:31]), "too short: 31 bytes"},
		"fail/short-hex":   {hex.EncodeToString(key[:16]), "too short: 16 bytes"},
		"fail/not-encoded": {"this is not!base64 nor hex, not at all, sorry", "not valid base64 or hex"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSecret(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
			if strings.TrimSpace(tc.in) != "" && strings.Contains(err.Error(), tc.in) {
				t.Errorf("error echoes the secret: %v", err)
			}
		})
	}
}

func TestDatabaseURLFromFlag(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	r := mustRun(t, env{}, "", "--database-url", dbURL, "clients", "list", "-o", "json")
	if strings.TrimSpace(r.out) != "[]" {
		t.Errorf("stdout %q", r.out)
	}
}

func TestDatabaseErrorsDoNotLeakThePassword(t *testing.T) {
	const pw = "hunter2-database-password"
	for name, dbURL := range map[string]string{
		"fail/unreachable": "postgres://strongroom:" + pw + "@127.0.0.1:1/strongroom?connect_timeout=2",
		"fail/invalid":     "postgres://strongroom:" + pw + "@127.0.0.1:notaport/x",
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, env{envDatabaseURL: dbURL}, "", "clients", "list")
			if r.code != exitFailure {
				t.Errorf("exit %d, stderr %q", r.code, r.errOut)
			}
			if strings.Contains(r.output(), pw) {
				t.Errorf("output leaks the database password: %q", r.output())
			}
		})
	}
}

func TestSchemaBehindIsRefused(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T) string{
		"fail/never-migrated": func(t *testing.T) string { return pgtest.NewEmptyDatabase(t) },
		"fail/one-migration-missing": func(t *testing.T) string {
			dbURL := pgtest.NewDatabase(t)
			st := openTestStore(t, env{envDatabaseURL: dbURL})
			_, err := st.Pool().Exec(t.Context(),
				`DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations)`)
			if err != nil {
				t.Fatal(err)
			}
			return dbURL
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := env{envDatabaseURL: setup(t), envSecret: newSecret(t)}
			for _, args := range [][]string{
				{"clients", "list"},
				{"clients", "create", "--name", "x", "--grant-type", "client_credentials", "--auth-method", "client_secret_basic"},
				{"users", "list"},
			} {
				wantFail(t, run(t, e, "", args...), exitFailure, "strongroom migrate up")
			}
		})
	}
}
