// Package resourceserver is the integrator guide's API: it accepts
// Strongroom access tokens either by verifying JWT access tokens (RFC 9068)
// locally against the server's JWKS, or by asking the introspection
// endpoint (RFC 7662) about opaque ones.
package resourceserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Token is what the API learns about the caller.
type Token struct {
	Subject  string
	ClientID string
	Scopes   []string
}

// Checker turns the raw token of a request into a Token or an error.
type Checker interface {
	Check(ctx context.Context, raw string) (*Token, error)
}

// JWTChecker verifies RFC 9068 access tokens with the server's published keys.
type JWTChecker struct {
	issuer, audience string
	keys             *oidc.RemoteKeySet
}

// NewJWTChecker discovers the server's jwks_uri. audience is this API's
// identifier, as registered on the clients that call it (--audience).
func NewJWTChecker(ctx context.Context, issuer, audience string) (*JWTChecker, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	return &JWTChecker{issuer: issuer, audience: audience, keys: oidc.NewRemoteKeySet(ctx, meta.JWKS)}, nil
}

// Check verifies the signature, typ "at+jwt", iss, aud, exp and nbf, and
// refuses sender-constrained tokens (cnf), which need DPoP or mTLS checks
// this simple API does not make.
func (c *JWTChecker) Check(ctx context.Context, raw string) (*Token, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("not a signed JWT")
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, errors.New("not an access token (typ)")
	}
	payload, err := c.keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	var claims struct {
		Iss      string          `json:"iss"`
		Sub      string          `json:"sub"`
		Aud      audience        `json:"aud"`
		Exp      int64           `json:"exp"`
		Nbf      int64           `json:"nbf"`
		ClientID string          `json:"client_id"`
		Scope    string          `json:"scope"`
		Cnf      json.RawMessage `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errors.New("malformed claims")
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != c.issuer:
		return nil, errors.New("wrong issuer")
	case !slices.Contains(claims.Aud, c.audience):
		return nil, errors.New("not meant for this API (aud)")
	case claims.Exp <= now:
		return nil, errors.New("expired")
	case claims.Nbf > now+5:
		return nil, errors.New("not yet valid")
	case len(claims.Cnf) > 0:
		return nil, errors.New("sender-constrained token presented as a bearer token")
	}
	return &Token{Subject: claims.Sub, ClientID: claims.ClientID, Scopes: strings.Fields(claims.Scope)}, nil
}

// audience decodes aud as a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// IntrospectionChecker asks the server about each token. The API is itself
// a client registered with --introspect (and named as an audience of the
// clients whose tokens it accepts).
type IntrospectionChecker struct {
	URL, ClientID, ClientSecret string
	HTTPClient                  *http.Client
}

// Check posts the token to the introspection endpoint and accepts it only
// when the answer is active, a Bearer access token.
func (c *IntrospectionChecker) Check(ctx context.Context, raw string) (*Token, error) {
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(form.Encode())) // #nosec G704 -- the introspection URL is the API's own configuration
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	client := c.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req) // #nosec G704 -- the introspection URL is the API's own configuration
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspect: %s", resp.Status)
	}
	var answer struct {
		Active    bool   `json:"active"`
		Sub       string `json:"sub"`
		ClientID  string `json:"client_id"`
		Scope     string `json:"scope"`
		TokenType string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	if !answer.Active {
		return nil, errors.New("token is not active")
	}
	if answer.TokenType != "" && !strings.EqualFold(answer.TokenType, "Bearer") {
		return nil, errors.New("sender-constrained token presented as a bearer token")
	}
	return &Token{Subject: answer.Sub, ClientID: answer.ClientID, Scopes: strings.Fields(answer.Scope)}, nil
}

type tokenKey struct{}

// Require is middleware: a request needs a valid bearer token carrying
// scope, else 401 (no or bad token) or 403 (scope missing) with the
// WWW-Authenticate header of RFC 6750 §3.
func Require(c Checker, scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			http.Error(w, "token required", http.StatusUnauthorized)
			return
		}
		tok, err := c.Check(r.Context(), raw)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if !slices.Contains(tok.Scopes, scope) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
			http.Error(w, "scope "+scope+" required", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
	})
}

// FromContext returns the token Require accepted.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(tokenKey{}).(*Token)
	return t
}
