// Package publicclient is the integrator guide's public client: a single
// page or mobile app that holds no secret and signs its user in with the
// authorization code flow and PKCE (RFC 7636, RFC 8252), using
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3.
package publicclient

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// App is a public client of one server.
type App struct {
	OAuth    oauth2.Config
	issuer   string
	verifier *oidc.IDTokenVerifier
}

// Pending is one sign-in in progress: keep it (in memory, or the app's
// secure storage) between Start and Finish.
type Pending struct {
	State, Nonce, CodeVerifier string
}

// New discovers the server and returns the app. redirectURL is the app's
// registered redirect URI: a loopback address (http://127.0.0.1:PORT/cb) for
// a desktop app, a claimed https URL or private-use scheme for mobile.
func New(ctx context.Context, issuer, clientID, redirectURL string) (*App, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	return &App{
		OAuth: oauth2.Config{ClientID: clientID, RedirectURL: redirectURL, Endpoint: provider.Endpoint(),
			Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess}},
		issuer:   issuer,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}, nil
}

// Start returns the URL to open in the system browser and what Finish needs.
func (a *App) Start() (string, *Pending) {
	p := &Pending{State: random(), Nonce: random(), CodeVerifier: oauth2.GenerateVerifier()}
	return a.OAuth.AuthCodeURL(p.State, oauth2.S256ChallengeOption(p.CodeVerifier), oidc.Nonce(p.Nonce)), p
}

// Finish takes the redirect the browser came back with, checks state and
// iss, redeems the code with the PKCE verifier and verifies the ID token.
func (a *App) Finish(ctx context.Context, p *Pending, redirect *url.URL) (*oauth2.Token, *oidc.IDToken, error) {
	q := redirect.Query()
	if q.Get("state") != p.State {
		return nil, nil, errors.New("state mismatch: not the sign-in this app started")
	}
	if q.Get("iss") != a.issuer {
		return nil, nil, fmt.Errorf("response from unexpected issuer %q", q.Get("iss"))
	}
	if e := q.Get("error"); e != "" {
		return nil, nil, fmt.Errorf("sign-in refused: %s: %s", e, q.Get("error_description"))
	}
	tok, err := a.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.CodeVerifier))
	if err != nil {
		return nil, nil, fmt.Errorf("redeem code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("verify ID token: %w", err)
	}
	if id.Nonce != p.Nonce {
		return nil, nil, errors.New("ID token nonce mismatch")
	}
	return tok, id, nil
}

// Refresh returns fresh tokens: each refresh token works once (rotation),
// so always keep the newest one the server returns.
func (a *App) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	expired := *tok
	expired.Expiry = expired.Expiry.Add(-1 << 62) // force a refresh now
	next, err := a.OAuth.TokenSource(ctx, &expired).Token()
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	return next, nil
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
