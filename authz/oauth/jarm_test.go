package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
)

// verifiableKeys is a KeySource with one P-256 key whose public half the
// test keeps, so signatures can be verified.
type verifiableKeys struct{ key *ecdsa.PrivateKey }

func (k verifiableKeys) Signer(string) jwt.Signer {
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return k.key, nil }}
}
func (verifiableKeys) ActiveKID(alg string) (string, bool) { return "kid-" + alg, true }
func (verifiableKeys) JWKS() []byte                        { return []byte(`{"keys":[]}`) }

// jarmFixture is a token service over keys the test can verify, with user
// u1, client c1 (consented) and u1's browser session.
type jarmFixture struct {
	p     *Tokens
	a     *Authorizer
	key   *ecdsa.PrivateKey
	store storage.Store
	bs    *storage.BrowserSession
}

func newJARMFixture(t *testing.T) *jarmFixture {
	t.Helper()
	store := newMemoryStore(t)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	cfg := testConfig()
	must(t, cfg.Validate())
	s, err := New(cfg, store, verifiableKeys{k}, slog.New(slog.DiscardHandler))
	must(t, err)
	authztest.SeedConsentedUser(t, store)
	now := time.Now()
	bs := &storage.BrowserSession{ID: "bs1", UserID: "u1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, store.CreateBrowserSession(t.Context(), bs))
	return &jarmFixture{p: s.Tokens, a: s.Authorizer, key: k, store: store, bs: bs}
}

// verifyJWT verifies token with the fixture's key and returns its claims.
func (f *jarmFixture) verifyJWT(t *testing.T, token string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	payload, err := jws.Verify(&f.key.PublicKey)
	if err != nil {
		t.Fatalf("signature does not verify with the server's key: %v", err)
	}
	var claims map[string]any
	must(t, json.Unmarshal(payload, &claims))
	return claims
}

// authorize parses and issues an authorization request of c1 with extra
// parameters, as the endpoint does for a logged-in, consented user.
func (f *jarmFixture) authorize(t *testing.T, extra url.Values) (*authz.AuthorizeResponse, error) {
	t.Helper()
	q := url.Values{
		"client_id": {"c1"}, "response_type": {"code"}, "redirect_uri": {"https://c1.example/cb"},
		"scope": {"openid"}, "state": {"state-0123456789"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	r := httptest.NewRequest(http.MethodGet, authz.PathAuthorize+"?"+q.Encode(), nil)
	ar, err := f.a.NewAuthorizeRequest(t.Context(), r)
	if err == nil {
		err = f.a.CheckAuthorizePolicy(t.Context(), ar, false)
	}
	if err != nil {
		return f.a.AuthorizeError(t.Context(), ar, err)
	}
	return f.a.Issue(t.Context(), ar, f.bs, nil, time.Now())
}

// responseParam returns the JARM "response" of an answer carried by mode.
func responseParam(t *testing.T, resp *authz.AuthorizeResponse, mode string) string {
	t.Helper()
	switch mode {
	case "form_post":
		if !resp.FormPost() || len(resp.FormParams) != 1 {
			t.Fatalf("want a form post with only response, got %+v", resp)
		}
		return resp.FormParams.Get("response")
	case "fragment":
		u, err := url.Parse(resp.RedirectURL)
		must(t, err)
		v, err := url.ParseQuery(u.Fragment)
		must(t, err)
		if u.RawQuery != "" || len(v) != 1 {
			t.Fatalf("want only response in the fragment, got %s", resp.RedirectURL)
		}
		return v.Get("response")
	default:
		u, err := url.Parse(resp.RedirectURL)
		must(t, err)
		if len(u.Query()) != 1 || u.Fragment != "" {
			t.Fatalf("want only response in the query, got %s", resp.RedirectURL)
		}
		return u.Query().Get("response")
	}
}

// TestFAPI2MessageSigningEnsureJARMResponseSignatureValid mirrors
// fapi2-message-signing-…-ensure-jarm-response-signature-valid: with each
// JARM response mode the code, state and iss arrive only inside a JWT
// signed by the server, aud the client, iss the issuer, exp short.
func TestFAPI2MessageSigningEnsureJARMResponseSignatureValid(t *testing.T) {
	for mode, carrier := range map[string]string{"jwt": "query", "query.jwt": "query", "fragment.jwt": "fragment", "form_post.jwt": "form_post"} {
		t.Run(mode, func(t *testing.T) {
			f := newJARMFixture(t)
			resp, err := f.authorize(t, url.Values{"response_mode": {mode}})
			must(t, err)
			if !strings.HasPrefix(resp.RedirectURL+resp.FormAction, "https://c1.example/cb") {
				t.Fatalf("answer goes to %q", resp.RedirectURL+resp.FormAction)
			}
			claims := f.verifyJWT(t, responseParam(t, resp, carrier))
			if claims["iss"] != "https://as.example" || claims["aud"] != "c1" || claims["state"] != "state-0123456789" {
				t.Fatalf("claims = %v", claims)
			}
			if code, _ := claims["code"].(string); code == "" {
				t.Fatalf("no code in %v", claims)
			}
			exp, _ := claims["exp"].(float64)
			if life := time.Until(time.Unix(int64(exp), 0)); life <= 0 || life > 10*time.Minute {
				t.Fatalf("exp %v is %s away, want short and in the future", exp, life)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("JARM answer may be cached")
			}
		})
	}
}

// TestFAPI2MessageSigningEnsureJARMErrorResponseSigned mirrors
// …-ensure-jarm-error-response-signed: a refusal that goes back to the
// client (here access_denied, and an invalid scope caught by fosite) is a
// signed JWT with error, state and iss, never plain parameters.
func TestFAPI2MessageSigningEnsureJARMErrorResponseSigned(t *testing.T) {
	f := newJARMFixture(t)
	resp, err := f.authorize(t, url.Values{"response_mode": {"jwt"}, "scope": {"openid not-registered"}})
	must(t, err)
	claims := f.verifyJWT(t, responseParam(t, resp, "query"))
	if claims["error"] != "invalid_scope" || claims["state"] != "state-0123456789" || claims["aud"] != "c1" || claims["iss"] != "https://as.example" {
		t.Fatalf("claims = %v", claims)
	}
	if _, ok := claims["code"]; ok {
		t.Fatal("error response carries a code")
	}

	r := httptest.NewRequest(http.MethodGet, authz.PathAuthorize+"?"+url.Values{
		"client_id": {"c1"}, "response_type": {"code"}, "redirect_uri": {"https://c1.example/cb"}, "scope": {"openid"},
		"state": {"state-0123456789"}, "response_mode": {"form_post.jwt"},
	}.Encode(), nil)
	ar, err := f.a.NewAuthorizeRequest(t.Context(), r)
	must(t, err)
	resp, err = f.a.AuthorizeError(t.Context(), ar, authz.MapError(errAccessDeniedForTest()))
	must(t, err)
	claims = f.verifyJWT(t, responseParam(t, resp, "form_post"))
	if claims["error"] != "access_denied" || claims["state"] != "state-0123456789" {
		t.Fatalf("claims = %v", claims)
	}
}

// TestFAPI2MessageSigningClientsMustUseJARM: a FAPI 2.0 Message Signing
// client's request without a JWT response mode is refused.
func TestFAPI2MessageSigningClientsMustUseJARM(t *testing.T) {
	c := mustClient(t, func() *storage.Client {
		sc := fapi2Client("ms")
		sc.Metadata.Profile = storage.ProfileFAPI2MessageSigning
		return sc
	}())
	p := newTestProvider(t, newMemoryStore(t))
	form := fapi2AuthorizeForm()
	ar := authorizeRequest(c, form)
	wantPolicyError(t, p.CheckAuthorizePolicy(t.Context(), ar, true), "invalid_request", "JARM")
	ar.ResponseMode = authz.ResponseModeJWT
	must(t, p.CheckAuthorizePolicy(t.Context(), ar, true))
}

// TestIntrospectionResponseAsSignedJWT: RFC 9701 — the answer is a JWT
// signed by the server, typ token-introspection+jwt, aud the caller, with
// the usual answer under token_introspection.
func TestIntrospectionResponseAsSignedJWT(t *testing.T) {
	f := newJARMFixture(t)
	scope := "openid"
	token, err := f.p.IntrospectionJWT(t.Context(), "c1", &authz.Introspection{Active: true, ClientID: "c1", Scope: &scope, Sub: "u1", TokenType: "DPoP", Cnf: map[string]any{"jkt": "thumb"}})
	must(t, err)
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	must(t, err)
	if typ := jws.Signatures[0].Header.ExtraHeaders["typ"]; typ != "token-introspection+jwt" {
		t.Fatalf("typ = %v", typ)
	}
	claims := f.verifyJWT(t, token)
	ti, _ := claims["token_introspection"].(map[string]any)
	if claims["iss"] != "https://as.example" || claims["aud"] != "c1" || claims["iat"] == nil || ti == nil {
		t.Fatalf("claims = %v", claims)
	}
	if ti["active"] != true || ti["sub"] != "u1" || ti["token_type"] != "DPoP" || ti["cnf"].(map[string]any)["jkt"] != "thumb" {
		t.Fatalf("token_introspection = %v", ti)
	}
	inactive, err := f.p.IntrospectionJWT(t.Context(), "c1", &authz.Introspection{Active: false})
	must(t, err)
	if ti := f.verifyJWT(t, inactive)["token_introspection"].(map[string]any); len(ti) != 1 || ti["active"] != false {
		t.Fatalf("inactive answer = %v", ti)
	}
}

// TestWantsIntrospectionJWT: the Accept header selects RFC 9701.
func TestWantsIntrospectionJWT(t *testing.T) {
	for accept, want := range map[string]bool{
		"application/token-introspection+jwt":                   true,
		"application/json, application/token-introspection+jwt": true,
		"application/token-introspection+jwt;q=0.5":             true,
		"application/token-introspection+jwt;q=0":               false,
		"application/json":                                      false,
		"":                                                      false,
		"*/*":                                                   false,
	} {
		if got := WantsIntrospectionJWT(accept); got != want {
			t.Errorf("WantsIntrospectionJWT(%q) = %v, want %v", accept, got, want)
		}
	}
}

func errAccessDeniedForTest() error {
	return fosite.ErrAccessDenied.WithHint("The user denied the request.")
}
