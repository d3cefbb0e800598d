package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

func TestReadServerKeyLifetimes(t *testing.T) {
	file := configFile(t, "id-token-lifespan: 1h\naccess-token-lifespan: 5m\nissuer: https://auth.example.com\ndatabase-url: postgres://db/x\n")
	jwksOnly := configFile(t, "jwks-cache-lifetime: 30s\n")
	d := func(s string) *time.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	for _, tc := range []struct {
		name        string
		e           env
		path        string
		jwks, token *time.Duration
	}{
		{"nothing configured", nil, "", nil, nil},
		{"jwks from the environment", env{"STRONGROOM_JWKS_CACHE_LIFETIME": "10s"}, "", d("10s"), nil},
		{"jwks from the file", nil, jwksOnly, d("30s"), nil},
		{"environment beats the file", env{"STRONGROOM_JWKS_CACHE_LIFETIME": "10s"}, jwksOnly, d("10s"), nil},
		{"token lifetime is the longer of ID and access token", nil, file, nil, d("1h")},
		{"access token from the environment", env{"STRONGROOM_ACCESS_TOKEN_LIFESPAN": "2h"}, file, nil, d("2h")},
		{"only one lifespan set", env{"STRONGROOM_ID_TOKEN_LIFESPAN": "30m"}, "", nil, d("30m")},
		{"jwks from the new variable", env{"STRONGROOM_JWKS_CACHE_LIFESPAN": "20s"}, "", d("20s"), nil},
		{"jwks from the new file key", nil, configFile(t, "jwks-cache-lifespan: 40s\n"), d("40s"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{in: strings.NewReader(""), out: &strings.Builder{}, errOut: &strings.Builder{}, log: slog.New(slog.DiscardHandler),
				getenv: func(k string) string { return tc.e[k] }}
			root := newRootCmd(a)
			cmd, _, err := root.Find([]string{"keys", "list"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readServerKeyLifetimes(cmd, a, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !equalDuration(got.jwksCache, tc.jwks) || !equalDuration(got.tokenLifetime, tc.token) {
				t.Errorf("jwks %v token %v, want %v %v", show(got.jwksCache), show(got.tokenLifetime), show(tc.jwks), show(tc.token))
			}
		})
	}
}

func equalDuration(a, b *time.Duration) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func show(d *time.Duration) string {
	if d == nil {
		return "default"
	}
	return d.String()
}

// TestKeysRotateUsesTheServersJWKSCacheLifetime: a next key published 30 s
// ago may not sign under the default cache lifetime (1m), but may under the
// servers' 10s, read from their environment or config file; a flag still wins.
func TestKeysRotateUsesTheServersJWKSCacheLifetime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra env
		args  []string
		ok    bool
	}{
		{"from the environment", env{"STRONGROOM_JWKS_CACHE_LIFETIME": "10s"}, nil, true},
		{"from the config file", nil, []string{"--config", configFile(t, "jwks-cache-lifetime: 10s\nissuer: https://auth.example.com\n")}, true},
		{"the flag beats the environment", env{"STRONGROOM_JWKS_CACHE_LIFETIME": "10s"}, []string{"--jwks-cache-lifetime", "1m"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, store, kek := newKeysEnv(t)
			for k, v := range tc.extra {
				e[k] = v
			}
			seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
			next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, 30*time.Second)
			r := run(t, e, "", append([]string{"keys", "rotate", "--alg", "ES256"}, tc.args...)...)
			if !tc.ok {
				wantFail(t, r, exitFailure, "may sign from")
				return
			}
			if r.code != exitOK || stateOf(t, storedKeys(t, store), next.KID) != storage.KeyStateActive {
				t.Fatalf("exit %d, next key not active\n%s%s", r.code, r.out, r.errOut)
			}
		})
	}
	r := run(t, env{}, "", "keys", "list", "--config", configFile(t, "jwks-cache-lifetme: 10s\n"))
	wantFail(t, r, exitUsage, `unknown key "jwks-cache-lifetme"`)
}
