package interop

import (
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage"
)

// TestOauth4webapiDPoPWithPARAndPKCEAndServerNonce: oauth4webapi completes
// PAR + PKCE with a DPoP key (ES256) against a client that must use DPoP
// (dpop_bound_access_tokens), so the server asks for its nonce
// (use_dpop_nonce, DPoP-Nonce) and oauth4webapi retries; the access token
// is DPoP-bound (token_type DPoP; introspection reports token_type DPoP and
// cnf.jkt of the key), userinfo accepts it with a proof and refuses it as
// Bearer and with a proof of another key (401 invalid_token); a refresh with
// the same key gives a DPoP-bound token userinfo accepts. The client is
// confidential, so its refresh token is not bound to the key (RFC 9449 §5:
// the client authenticates) and a refresh with another key is accepted.
func TestOauth4webapiDPoPWithPARAndPKCEAndServerNonce(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	in := e.codeClient("openid email offline_access", func(c *storage.Client) {
		c.Metadata.DPoPBoundAccessTokens = true
	})
	var r struct {
		codeFlowResult
		DPoPJKT       string         `json:"dpop_jkt"`
		Introspection map[string]any `json:"introspection"`
		AsBearer      *rpError       `json:"userinfo_as_bearer"`
		OtherKey      *rpError       `json:"userinfo_with_other_key"`
		Refresh       *struct {
			TokenType   string `json:"token_type"`
			UserinfoSub string `json:"userinfo_sub"`
		} `json:"refresh"`
		RefreshWithOtherKey struct {
			Accepted bool     `json:"accepted"`
			Refused  *rpError `json:"refused"`
		} `json:"refresh_with_other_key"`
	}
	e.runRP(t, "dpop-par-pkce.mjs", in).result(t, &r)

	e.checkSignedIn(t, r.codeFlowResult, in["client_id"].(string))
	if !strings.EqualFold(r.TokenType, "dpop") || r.NonceRetries < 1 {
		t.Errorf("token_type %q, nonce retries %d: want DPoP after at least one use_dpop_nonce", r.TokenType, r.NonceRetries)
	}
	cnf, _ := r.Introspection["cnf"].(map[string]any)
	if r.Introspection["active"] != true || r.Introspection["token_type"] != "DPoP" || r.DPoPJKT == "" || cnf["jkt"] != r.DPoPJKT {
		t.Errorf("introspection %v: want an active DPoP token with cnf.jkt %s", r.Introspection, r.DPoPJKT)
	}
	if !r.AsBearer.is(401, "invalid_token") {
		t.Errorf("the bound token as Bearer: %s, want 401 invalid_token", r.AsBearer)
	}
	if !r.OtherKey.is(401, "invalid_token") {
		t.Errorf("the bound token with another key's proof: %s, want 401 invalid_token", r.OtherKey)
	}
	if r.Refresh == nil || !strings.EqualFold(r.Refresh.TokenType, "dpop") || r.Refresh.UserinfoSub != e.userID {
		t.Errorf("refresh with the same key: %+v", r.Refresh)
	}
	if !r.RefreshWithOtherKey.Accepted {
		t.Errorf("a confidential client's refresh with another key: refused %s", r.RefreshWithOtherKey.Refused)
	}
}
