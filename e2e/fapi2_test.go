package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/server"
)

// TestFAPI2DPoPRefreshTokenNotRotated: a FAPI 2.0 bank app (private_key_jwt,
// DPoP) runs PAR + PKCE; each refresh with its one refresh token succeeds,
// a retried one too (FAPI 2.0 SP §5.3.2.1: no rotation), and answers the
// same refresh token with a new DPoP-bound access token.
func TestFAPI2DPoPRefreshTokenNotRotated(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	c := dpopClient(true)
	c.RequirePAR = true
	c.IDTokenSignedResponseAlg = "ES256"
	auth := fapi2PrivateKeyJWT(t, e, c)
	k := newDPoPKey(t)
	tokenURL := e.issuer + authz.PathToken

	verifier, challenge := pkcePair()
	push := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid offline_access"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	par := send(t, nil, "POST", e.issuer+authz.PathPAR, auth(push), "", "", nil)
	requestURI, _ := par.body["request_uri"].(string)
	if par.status != http.StatusCreated || requestURI == "" {
		t.Fatalf("PAR: %d %v", par.status, par.body)
	}
	loc := e.login(newBrowser(t), e.issuer+"/oauth2/authorize?"+url.Values{"client_id": {c.ID}, "request_uri": {requestURI}}.Encode(), "alice", testPassword, true)
	a := send(t, nil, "POST", tokenURL, auth(exchangeForm(loc.Query().Get("code"), verifier)), "", "",
		map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	refresh, _ := a.body["refresh_token"].(string)
	if a.status != http.StatusOK || a.body["token_type"] != "DPoP" || refresh == "" {
		t.Fatalf("code exchange: %d %v", a.status, a.body)
	}
	seen := map[string]bool{a.body["access_token"].(string): true}
	for i := range 3 {
		r := send(t, nil, "POST", tokenURL, auth(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}), "", "",
			map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
		at, _ := r.body["access_token"].(string)
		if r.status != http.StatusOK || r.body["token_type"] != "DPoP" || r.body["refresh_token"] != refresh || at == "" || seen[at] {
			t.Fatalf("refresh %d with the same refresh token: %d %v", i+1, r.status, r.body)
		}
		seen[at] = true
	}
	// still sender-constrained: a refresh without a proof is refused
	r := send(t, nil, "POST", tokenURL, auth(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}), "", "", nil)
	wantError(t, "refresh without a DPoP proof", r, http.StatusBadRequest, dpop.CodeInvalidProof)
}
