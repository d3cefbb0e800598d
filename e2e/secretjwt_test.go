package e2e

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// secretJWTAssertion is an RFC 7523 client assertion for clientID HMAC'd
// with secret (the key is the secret's octets, OIDC Core §9), naming kid
// when it is not empty.
func secretJWTAssertion(t *testing.T, alg jose.SignatureAlgorithm, clientID, secret, kid, aud, jti string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: []byte(secret)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := josejwt.Signed(sig).Claims(josejwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: josejwt.Audience{aud}, ID: jti,
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestClientSecretJWTOverHTTP: a client_secret_jwt client registered
// through the admin API gets its secret once, signs a go-jose HS256
// assertion with it and gets a token from the real server over HTTP; a
// replay, another secret, an unregistered algorithm or a foreign audience
// are 401 invalid_client; after a rotation both secrets work during the
// grace period, and the revoked one stops.
func TestClientSecretJWTOverHTTP(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"HMAC partner","grant_types":["client_credentials"],"scope":"payments",
		"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"HS256"}`, http.StatusCreated, &created)
	id, secret, secretID := created.Client.ClientID, created.Secret.ClientSecret, created.Secret.SecretID
	tokenURL := e.issuer + authz.PathToken
	grant := func(assertion string) (int, map[string]any) {
		t.Helper()
		return postForm(t, tokenURL, url.Values{
			"grant_type": {"client_credentials"}, "scope": {"payments"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		}, "", "")
	}
	wantToken := func(name, assertion string) {
		t.Helper()
		if code, m := grant(assertion); code != http.StatusOK || m["access_token"] == nil {
			t.Fatalf("%s: %d %v", name, code, m)
		}
	}
	wantInvalidClient := func(name, assertion string) {
		t.Helper()
		if code, m := grant(assertion); code != http.StatusUnauthorized || m["error"] != "invalid_client" {
			t.Fatalf("%s: %d %v, want 401 invalid_client", name, code, m)
		}
	}

	first := secretJWTAssertion(t, jose.HS256, id, secret, secretID, e.issuer, randString())
	wantToken("with kid, aud issuer", first)
	wantToken("without kid, aud token endpoint", secretJWTAssertion(t, jose.HS256, id, secret, "", tokenURL, randString()))
	wantInvalidClient("replayed jti", first)
	wantInvalidClient("another secret", secretJWTAssertion(t, jose.HS256, id, secret[1:]+"x", "", e.issuer, randString()))
	wantInvalidClient("HS512, not the registered HS256", secretJWTAssertion(t, jose.HS512, id, secret, "", e.issuer, randString()))
	wantInvalidClient("foreign audience", secretJWTAssertion(t, jose.HS256, id, secret, "", "https://elsewhere.example", randString()))
	if code, m := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, id, secret); code != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Fatalf("the secret by HTTP Basic: %d %v", code, m)
	}

	var rotated authzadmin.IssuedSecret
	adm.do("POST", "/admin/v1/clients/"+id+"/secrets", `{"grace":"1h"}`, http.StatusCreated, &rotated)
	if rotated.SecretID == secretID || rotated.ClientSecret == secret {
		t.Fatalf("rotation issued %+v", rotated)
	}
	wantToken("previous secret in its grace", secretJWTAssertion(t, jose.HS256, id, secret, secretID, e.issuer, randString()))
	wantToken("new secret", secretJWTAssertion(t, jose.HS256, id, rotated.ClientSecret, rotated.SecretID, e.issuer, randString()))
	wantToken("new secret, no kid", secretJWTAssertion(t, jose.HS256, id, rotated.ClientSecret, "", e.issuer, randString()))

	adm.do("DELETE", "/admin/v1/clients/"+id+"/secrets/"+secretID, "", http.StatusOK, nil)
	eventually(t, propagationBound, "the revoked secret to stop working", func() bool {
		code, _ := grant(secretJWTAssertion(t, jose.HS256, id, secret, "", e.issuer, randString()))
		return code == http.StatusUnauthorized
	})
	wantToken("new secret after the revocation", secretJWTAssertion(t, jose.HS256, id, rotated.ClientSecret, rotated.SecretID, e.issuer, randString()))
}
