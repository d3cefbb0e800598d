package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
)

// TestImportedUsersKeepTheirPasswords: users imported with `strongroom
// users import` (the real binary), one with a bcrypt hash and one with an
// argon2id hash, log in over HTTP through the login page with their old
// passwords and get tokens; after the login the bcrypt user's stored hash
// is argon2id (and still verifies the password), the argon2id one is kept.
func TestImportedUsersKeepTheirPasswords(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	secret := e.createClient(c)
	const bcryptPW, argonPW = "moved from keycloak 1", "moved from elsewhere 2"
	bh, err := bcrypt.GenerateFromPassword([]byte(bcryptPW), 10)
	if err != nil {
		t.Fatal(err)
	}
	ah, err := password.Hash(argonPW, password.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, rec := range []map[string]any{
		{"username": "kc-user", "email": "kc@example.test", "email_verified": true, "password_hash": string(bh)},
		{"username": "ar-user", "given_name": "Ar", "password_hash": ah},
	} {
		b, _ := json.Marshal(rec)
		lines = append(lines, string(b))
	}
	file := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.cli(t, "users", "import", file)
	if strings.Count(out, "created") != 2 || strings.Contains(out, "$2a$") || strings.Contains(out, "$argon2id$") {
		t.Fatalf("import report:\n%s", out)
	}

	ctx := context.Background()
	for _, u := range []struct{ name, pw string }{{"kc-user", bcryptPW}, {"ar-user", argonPW}} {
		conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI,
			Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
			Scopes:   []string{"openid"}}
		verifier := oauth2.GenerateVerifier()
		loc := e.login(newBrowser(t), conf.AuthCodeURL("state-"+randString(), oauth2.S256ChallengeOption(verifier)), u.name, u.pw, true)
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: exchange: %v", u.name, err)
		}
		if tok.AccessToken == "" || tok.Extra("id_token") == nil {
			t.Fatalf("%s: no tokens", u.name)
		}
	}

	stored := func(name string) *storage.User {
		t.Helper()
		su, err := e.Server.Store.GetUserByUsername(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return su
	}
	kc := stored("kc-user")
	if !strings.HasPrefix(kc.PasswordHash, "$argon2id$") {
		t.Fatalf("after login the bcrypt user's hash is not argon2id (prefix %.7q)", kc.PasswordHash)
	}
	if ok, err := password.Verify(kc.PasswordHash, bcryptPW); !ok || err != nil {
		t.Fatalf("rehashed password does not verify: %v", err)
	}
	if ar := stored("ar-user"); ar.PasswordHash != ah {
		t.Error("the argon2id user's hash (current parameters) was replaced")
	}
}
