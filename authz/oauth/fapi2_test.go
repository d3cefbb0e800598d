package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/grant"
	"github.com/strongroom/strongroom/storage"
)

// fapi2Client is a FAPI 2.0 client registration as registration accepts it.
func fapi2Client(id string) *storage.Client {
	c := testClient(id)
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.RequirePAR = true
	c.Metadata.Profile = storage.ProfileFAPI2
	c.Metadata.TokenEndpointAuthSigningAlg = "PS256"
	c.Metadata.DPoPBoundAccessTokens = true
	return c
}

const testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

// fapi2AuthorizeForm is a valid pushed authorization request.
func fapi2AuthorizeForm() url.Values {
	return url.Values{"response_type": {"code"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}
}

// checkFAPI2Policy runs checkAuthorizePolicy for a FAPI 2.0 client with form
// changed by mutate.
func checkFAPI2Policy(t *testing.T, pushed bool, mutate func(url.Values)) error {
	t.Helper()
	p := newTestProvider(t, newMemoryStore(t))
	form := fapi2AuthorizeForm()
	if mutate != nil {
		mutate(form)
	}
	return p.CheckAuthorizePolicy(t.Context(), authorizeRequest(mustClient(t, fapi2Client("fapi")), form), pushed)
}

func wantPolicyError(t *testing.T, err error, code, hint string) {
	t.Helper()
	rfc := fosite.ErrorToRFC6749Error(err)
	if err == nil || rfc.ErrorField != code || !strings.Contains(rfc.HintField, hint) {
		t.Fatalf("err = %v (hint %q), want %s mentioning %q", err, rfc.HintField, code, hint)
	}
}

// TestFAPI2PARPlainPKCERejected mirrors fapi2-security-profile-final-par-plain-pkce-rejected:
// a pushed request with code_challenge_method plain is invalid_request.
func TestFAPI2PARPlainPKCERejected(t *testing.T) {
	err := checkFAPI2Policy(t, true, func(f url.Values) { f.Set("code_challenge_method", "plain") })
	wantPolicyError(t, err, "invalid_request", "S256")
	must(t, checkFAPI2Policy(t, true, nil))
}

// TestFAPI2PARWithoutPKCERejected mirrors fapi2-security-profile-final-par-without-pkce:
// a FAPI 2.0 client must use PKCE even though it is confidential.
func TestFAPI2PARWithoutPKCERejected(t *testing.T) {
	err := checkFAPI2Policy(t, true, func(f url.Values) { f.Del("code_challenge"); f.Del("code_challenge_method") })
	wantPolicyError(t, err, "invalid_request", "PKCE")
	err = checkFAPI2Policy(t, true, func(f url.Values) { f.Del("code_challenge_method") })
	wantPolicyError(t, err, "invalid_request", "S256")
}

// TestFAPI2EnsureAuthorizationRequestWithoutPARFails mirrors
// fapi2-security-profile-final-ensure-authorization-request-without-par-fails
// (PAR is required): an authorization request without a pushed request_uri
// is invalid_request; with one it passes.
func TestFAPI2EnsureAuthorizationRequestWithoutPARFails(t *testing.T) {
	wantPolicyError(t, checkFAPI2Policy(t, false, nil), "invalid_request", "PAR")
	err := checkFAPI2Policy(t, false, func(f url.Values) { f.Set("request_uri", "https://evil.example/req") })
	wantPolicyError(t, err, "invalid_request", "PAR")
	must(t, checkFAPI2Policy(t, false, func(f url.Values) { f.Set("request_uri", parPrefix+"abc") }))
}

// TestFAPI2EnsureResponseTypeCodeIdTokenFails mirrors
// fapi2-security-profile-final-ensure-response-type-code-idtoken-fails:
// only response_type=code.
func TestFAPI2EnsureResponseTypeCodeIdTokenFails(t *testing.T) {
	for _, rt := range []string{"code id_token", "token", "id_token"} {
		err := checkFAPI2Policy(t, true, func(f url.Values) { f.Set("response_type", rt) })
		wantPolicyError(t, err, "unsupported_response_type", "response_type=code")
	}
}

// TestFAPI2EnsureClientSecretBasicFails: a FAPI 2.0 client that
// authenticates with a client secret (a registration from before the
// profile rules) is invalid_client; private_key_jwt and mTLS are allowed.
func TestFAPI2EnsureClientSecretBasicFails(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	secret, err := authz.GenerateSecret()
	must(t, err)
	h, err := p.hasher.Hash(t.Context(), []byte(secret))
	must(t, err)
	c := fapi2Client("fapi-basic")
	c.TokenEndpointAuthMethod = storage.AuthMethodSecretBasic
	c.Secrets = []storage.ClientSecret{{Hash: h}}
	must(t, store.CreateClient(t.Context(), c))
	r := authRequest(t, authz.PathToken, url.Values{}, "fapi-basic", secret)
	_, err = p.provider.AuthenticateClient(t.Context(), r, r.PostForm)
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
	wantHint(t, err, "FAPI 2.0 clients must authenticate with private_key_jwt")
}

// TestFAPI2CodeLifetimeAtMost60Seconds: a FAPI 2.0 client's authorization
// code lives at most 60 s (FAPI 2.0 SP §5.3.2.1) even when the server's code
// lifetime is longer; other clients get the configured lifetime.
func TestFAPI2CodeLifetimeAtMost60Seconds(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.fositeConfig.AuthorizeCodeLifespan = 10 * time.Minute
	var codeHandler fosite.AuthorizeEndpointHandler
	for _, h := range p.fositeConfig.AuthorizeEndpointHandlers {
		if g, ok := h.(grant.Code); ok {
			codeHandler = g
		}
	}
	if codeHandler == nil {
		t.Fatal("no grant.Code among the authorization endpoint handlers")
	}
	for _, tc := range []struct {
		client *storage.Client
		want   time.Duration
	}{
		{fapi2Client("fapi"), fapi2MaxCodeLifetime},
		{testClient("plain"), 10 * time.Minute},
	} {
		must(t, store.CreateClient(t.Context(), tc.client))
		ar := authorizeRequest(mustClient(t, tc.client), url.Values{"response_type": {"code"}, "redirect_uri": {tc.client.RedirectURIs[0]}, "state": {"state-0123456789"}})
		ar.RedirectURI, _ = url.Parse(tc.client.RedirectURIs[0])
		ar.State = "state-0123456789"
		ar.SetSession(authz.NewSession())
		ar.GrantScope("openid")
		before := time.Now()
		must(t, codeHandler.HandleAuthorizeEndpointRequest(t.Context(), ar, fosite.NewAuthorizeResponse()))
		got := ar.GetSession().GetExpiresAt(fosite.AuthorizeCode).Sub(before)
		if got > tc.want+2*time.Second || got < tc.want-2*time.Second {
			t.Errorf("client %s: code lives %s, want %s", tc.client.ID, got, tc.want)
		}
	}
}
