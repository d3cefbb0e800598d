package interop

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/storage"
)

// codeClient registers a confidential client (client_secret_basic unless
// mutate changes it) that must use PAR and may introspect its tokens, and
// returns the input of the code-flow scripts.
func (e *env) codeClient(scope string, mutate func(*storage.Client)) map[string]any {
	e.t.Helper()
	c := &storage.Client{
		Name: "oauth4webapi RP", RedirectURIs: []string{redirectURI},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "email", "offline_access"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		RequirePAR: true, Metadata: storage.ClientMetadata{Introspect: true},
	}
	if mutate != nil {
		mutate(c)
	}
	secret := e.CreateClient(e.t, c)
	in := map[string]any{"issuer": e.Issuer, "client_id": c.ID, "redirect_uri": redirectURI, "scope": scope}
	if c.TokenEndpointAuthMethod == storage.AuthMethodSecretBasic {
		in["client_secret"] = secret
	}
	return in
}

// signingKey is an ES256 key pair for private_key_jwt: the public JWK Set
// to register (storage.Client.JWKS) and the private JWK for the scripts'
// input (private_jwk).
func signingKey(t *testing.T, kid string) (jwks []byte, private json.RawMessage) {
	t.Helper()
	key := newECKey(t)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	private, err = json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return jwks, private
}

// codeFlowResult is what lib.mjs's authorizationCodeFlow reports.
type codeFlowResult struct {
	RequestURIExpiresIn int            `json:"request_uri_expires_in"`
	TokenType           string         `json:"token_type"`
	Scope               string         `json:"scope"`
	ExpiresIn           int            `json:"expires_in"`
	HasRefreshToken     bool           `json:"has_refresh_token"`
	IDTokenClaims       map[string]any `json:"id_token_claims"`
	IDTokenSignature    string         `json:"id_token_signature"`
	Userinfo            map[string]any `json:"userinfo"`
	NonceRetries        int            `json:"nonce_retries"`
}

// checkSignedIn asserts what every code flow must show: the ID token names
// the issuer, the client and the signed-in user, its signature verified
// against the server's JWKS, and userinfo answered for the same user.
func (e *env) checkSignedIn(t *testing.T, r codeFlowResult, clientID string) {
	t.Helper()
	c := r.IDTokenClaims
	if c["iss"] != e.Issuer || c["sub"] != e.userID || !audienceHas(c["aud"], clientID) || c["nonce"] == nil {
		t.Errorf("ID token claims %v: want iss %s, sub %s, aud %s and a nonce", c, e.Issuer, e.userID, clientID)
	}
	if r.IDTokenSignature != "valid" {
		t.Errorf("ID token signature: %q", r.IDTokenSignature)
	}
	if r.Userinfo["sub"] != e.userID || r.Userinfo["email"] != testUsername+"@example.test" {
		t.Errorf("userinfo %v: want sub %s and alice's email", r.Userinfo, e.userID)
	}
	if r.ExpiresIn <= 0 {
		t.Errorf("expires_in %d", r.ExpiresIn)
	}
}

func audienceHas(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		return slices.Contains(a, any(clientID))
	}
	return false
}

// TestOauth4webapiPARWithPKCEAndClientSecretBasicSignsInAndCallsUserinfo:
// oauth4webapi pushes the authorization request (PAR, RFC 9126; the client
// may not use any other) with an S256 PKCE challenge, authenticating with
// client_secret_basic; the user signs in on the login page; oauth4webapi
// validates the authorization response (state, iss), exchanges the code,
// validates the ID token (claims and signature) and reads userinfo with the
// Bearer access token.
func TestOauth4webapiPARWithPKCEAndClientSecretBasicSignsInAndCallsUserinfo(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	in := e.codeClient("openid profile email", nil)
	var r codeFlowResult
	e.runRP(t, "par-pkce-code.mjs", in).result(t, &r)

	e.checkSignedIn(t, r, in["client_id"].(string))
	if !strings.EqualFold(r.TokenType, "bearer") || r.HasRefreshToken || r.NonceRetries != 0 {
		t.Errorf("token_type %q, refresh token %v, DPoP nonce retries %d: want a Bearer token and no refresh token",
			r.TokenType, r.HasRefreshToken, r.NonceRetries)
	}
	if r.RequestURIExpiresIn <= 0 {
		t.Errorf("PAR expires_in %d", r.RequestURIExpiresIn)
	}
	if scopes := strings.Fields(r.Scope); !slices.Contains(scopes, "openid") || !slices.Contains(scopes, "email") {
		t.Errorf("scope %q", r.Scope)
	}
}

// TestOauth4webapiPARWithPKCEAndPrivateKeyJWTSignsIn: the same flow with
// the client authentication FAPI 2.0 asks for: oauth4webapi signs a fresh
// private_key_jwt assertion (ES256, the registered key) for the PAR request
// and again for the code exchange.
func TestOauth4webapiPARWithPKCEAndPrivateKeyJWTSignsIn(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	jwks, private := signingKey(t, "rp-1")
	in := e.codeClient("openid email", func(c *storage.Client) {
		c.TokenEndpointAuthMethod, c.JWKS = storage.AuthMethodPrivateKeyJWT, jwks
	})
	in["private_jwk"] = private
	var r codeFlowResult
	e.runRP(t, "par-pkce-code.mjs", in).result(t, &r)

	e.checkSignedIn(t, r, in["client_id"].(string))
	if !strings.EqualFold(r.TokenType, "bearer") {
		t.Errorf("token_type %q", r.TokenType)
	}
}

// TestOauth4webapiRefreshTokenGrantRotatesAndRefusesTheOldToken: after a PAR
// + PKCE code flow with offline_access, oauth4webapi refreshes: a new Bearer
// access token that userinfo accepts and a rotated refresh token; the
// rotated-away refresh token is then refused with invalid_grant (RFC 6749
// §5.2, OAuth 2.0 Security BCP §4.14.2).
func TestOauth4webapiRefreshTokenGrantRotatesAndRefusesTheOldToken(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	in := e.codeClient("openid email offline_access", nil)
	var r struct {
		TokenType           string         `json:"token_type"`
		ExpiresIn           int            `json:"expires_in"`
		NewAccessToken      bool           `json:"new_access_token"`
		RefreshTokenRotated bool           `json:"refresh_token_rotated"`
		Userinfo            map[string]any `json:"userinfo"`
		OldRefreshTokenUse  *rpError       `json:"old_refresh_token_reuse"`
	}
	e.runRP(t, "refresh.mjs", in).result(t, &r)

	if !strings.EqualFold(r.TokenType, "bearer") || !r.NewAccessToken || r.ExpiresIn <= 0 {
		t.Errorf("refreshed: token_type %q, new access token %v, expires_in %d", r.TokenType, r.NewAccessToken, r.ExpiresIn)
	}
	if r.Userinfo["sub"] != e.userID {
		t.Errorf("userinfo with the refreshed token: %v", r.Userinfo)
	}
	if !r.RefreshTokenRotated {
		t.Fatal("the refresh token was not rotated")
	}
	if o := r.OldRefreshTokenUse; !o.is(400, "invalid_grant") || o.Name != "ResponseBodyError" {
		t.Errorf("the rotated-away refresh token: %s, want a ResponseBodyError invalid_grant (400)", o)
	}
}

// TestOauth4webapiWrongPKCEVerifierIsRefusedWithInvalidGrant: a client that
// redeems its code with a code_verifier that does not match the S256
// challenge it pushed is refused with invalid_grant (RFC 7636 §4.6), and
// oauth4webapi surfaces the server's error as a ResponseBodyError.
func TestOauth4webapiWrongPKCEVerifierIsRefusedWithInvalidGrant(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	out := e.runRP(t, "pkce-wrong-verifier.mjs", e.codeClient("openid", nil))
	if o := out.Error; !o.is(400, "invalid_grant") || o.Name != "ResponseBodyError" || o.Code != "OAUTH_RESPONSE_BODY_ERROR" {
		t.Fatalf("got %s (result %s), want a ResponseBodyError invalid_grant (400)", o, out.Result)
	}
}

// TestOauth4webapiPrivateKeyJWTClientCredentialsAndIntrospection:
// oauth4webapi authenticates with private_key_jwt, signing the client
// assertion (ES256) with the key whose public half the client registered,
// gets a client_credentials token, and introspects it with the same
// authentication; an assertion signed with an unregistered key is refused
// with invalid_client (RFC 6749 §5.2, 401).
func TestOauth4webapiPrivateKeyJWTClientCredentialsAndIntrospection(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	jwks, private := signingKey(t, "rp-1")
	c := &storage.Client{
		Name: "oauth4webapi service", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodPrivateKeyJWT, JWKS: jwks, Metadata: storage.ClientMetadata{Introspect: true},
	}
	e.CreateClient(t, c)

	var r struct {
		TokenType     string `json:"token_type"`
		Scope         string `json:"scope"`
		ExpiresIn     int    `json:"expires_in"`
		Introspection struct {
			Active   bool   `json:"active"`
			ClientID string `json:"client_id"`
			Scope    string `json:"scope"`
		} `json:"introspection"`
		UnregisteredKey *rpError `json:"assertion_with_unregistered_key"`
	}
	e.runRP(t, "client-credentials-private-key-jwt.mjs", map[string]any{
		"issuer": e.Issuer, "client_id": c.ID, "private_jwk": private, "scope": "payments",
	}).result(t, &r)

	if !strings.EqualFold(r.TokenType, "bearer") || r.Scope != "payments" || r.ExpiresIn <= 0 {
		t.Errorf("token: type %q, scope %q, expires_in %d", r.TokenType, r.Scope, r.ExpiresIn)
	}
	if in := r.Introspection; !in.Active || in.ClientID != c.ID || in.Scope != "payments" {
		t.Errorf("introspection %+v: want active, client %s, scope payments", in, c.ID)
	}
	if o := r.UnregisteredKey; !o.is(401, "invalid_client") {
		t.Errorf("assertion signed with an unregistered key: %s, want invalid_client (401)", o)
	}
}
