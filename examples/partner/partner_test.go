package partner_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/examples/internal/exampletest"
	"github.com/strongroom/strongroom/examples/partner"
	"github.com/strongroom/strongroom/storage"
)

// registerPartner registers a private_key_jwt client with a fresh ES256 key
// and returns the configuration the partner runs with.
func registerPartner(t *testing.T, issuer string, env interface {
	CreateClient(testing.TB, *storage.Client) string
}) partner.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "partner-1", Algorithm: "ES256", Use: "sig"}}})
	env.CreateClient(t, &storage.Client{ID: "partner", Name: "Partner Bank", GrantTypes: []string{"client_credentials"},
		Scopes: []string{"payments"}, Audience: []string{"payments-api"}, JWKS: jwks,
		TokenEndpointAuthMethod: storage.AuthMethodPrivateKeyJWT,
		Metadata:                storage.ClientMetadata{TokenEndpointAuthSigningAlg: "ES256"}})
	return partner.Config{Issuer: issuer, TokenURL: issuer + "/oauth2/token", ClientID: "partner", Key: key,
		KeyID: "partner-1", Alg: jose.ES256, Scopes: []string{"payments"}}
}

// TestPartnerGetsTokensWithPrivateKeyJWT: the guide's token source gets a
// token, reuses it while valid, and gets a new one (with a new assertion)
// when asked again after it expired.
func TestPartnerGetsTokensWithPrivateKeyJWT(t *testing.T) {
	env := exampletest.Start(t)
	cfg := registerPartner(t, env.Issuer, env)
	ts := partner.TokenSource(context.Background(), cfg)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ts.Token()
	if err != nil || again.AccessToken != tok.AccessToken {
		t.Fatalf("a valid token was not reused: %v", err)
	}
	if tok.Extra("scope") != "payments" {
		t.Fatalf("scope %v, want payments", tok.Extra("scope"))
	}
	// A second source (as after a restart) mints a fresh assertion: its jti is new.
	if _, err := partner.TokenSource(context.Background(), cfg).Token(); err != nil {
		t.Fatalf("second assertion refused: %v", err)
	}
}

// TestPartnerAssertionReplayRefused: the same assertion sent twice is
// refused the second time (jti single use), so a captured assertion is
// useless.
func TestPartnerAssertionReplayRefused(t *testing.T) {
	env := exampletest.Start(t)
	cfg := registerPartner(t, env.Issuer, env)
	assertion, err := partner.Assertion(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	form := map[string][]string{"grant_type": {"client_credentials"}, "client_id": {"partner"}, "scope": {"payments"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	for i, want := range []int{200, 401} {
		resp, err := oauth2.NewClient(context.Background(), nil).PostForm(cfg.TokenURL, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("attempt %d answered %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}
