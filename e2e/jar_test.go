package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// msClient is a FAPI 2.0 Message Signing client: private_key_jwt, DPoP,
// PAR, request objects and client assertions signed with one ES256 key.
type msClient struct {
	c    *storage.Client
	key  *ecdsa.PrivateKey
	auth func(url.Values) url.Values // adds a fresh client assertion
}

func newMSClient(t *testing.T, e *env) *msClient {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	c := dpopClient(true)
	c.Metadata.Profile = storage.ProfileFAPI2MessageSigning
	c.RequirePAR = true
	c.IDTokenSignedResponseAlg = "ES256"
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.JWKS = set
	c.Metadata.TokenEndpointAuthSigningAlg = "ES256"
	c.Metadata.RequireSignedRequestObject = true
	c.Metadata.RequestObjectSigningAlg = "ES256"
	c.Metadata.AuthorizationSignedResponseAlg = "ES256"
	e.createClient(c)
	a := &assertionClient{id: c.ID, key: key}
	return &msClient{c: c, key: key, auth: func(form url.Values) url.Values {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", a.assertion(t, e.issuer, randString(), time.Minute))
		return f
	}}
}

// requestObject signs an authorization request as the client's request
// object (RFC 9101): iss, client_id, aud the issuer, exp 5 min, nbf, jti.
func (m *msClient) requestObject(t *testing.T, issuer string, params map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": m.c.ID, "client_id": m.c.ID, "aud": issuer, "exp": now.Add(5 * time.Minute).Unix(),
		"nbf": now.Unix(), "iat": now.Unix(), "jti": randString(),
	}
	for k, v := range params {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: m.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// codeRequest is a FAPI 2.0 Message Signing authorization request.
func codeRequest(challenge, state string) map[string]any {
	return map[string]any{
		"response_type": "code", "redirect_uri": redirectURI, "scope": "openid payments", "state": state,
		"code_challenge": challenge, "code_challenge_method": "S256", "response_mode": "jwt",
	}
}

// verifyWithJWKS verifies a JWT issued by the server against its published
// JWKS (as a client would, go-jose) and returns its header and claims.
func verifyWithJWKS(t *testing.T, e *env, token string) (jose.Header, map[string]any) {
	t.Helper()
	resp, err := http.Get(e.issuer + authz.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not published in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("signature does not verify with the published key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return h, claims
}

// TestFAPI2MessageSigningEndToEnd: over HTTP on PostgreSQL, a FAPI 2.0
// Message Signing client pushes a signed request object (parameters
// outside it ignored), the user logs in and consents, the code comes back
// inside a JARM JWT (…-ensure-jarm-response-signature-valid, verified with
// the JWKS), is redeemed for a DPoP-bound token, and the token's
// introspection in JWT form (RFC 9701) verifies with the JWKS and shows
// the binding.
func TestFAPI2MessageSigningEndToEnd(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	m := newMSClient(t, e)
	k := newDPoPKey(t)
	verifier, challenge := pkcePair()
	state := randString()

	// a plain push is refused: the client must sign its requests
	plain := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "response_mode": {"jwt"}}
	a := send(t, nil, "POST", e.issuer+authz.PathPAR, m.auth(plain), "", "", nil)
	wantError(t, "unsigned push", a, http.StatusBadRequest, "invalid_request")

	push := m.auth(url.Values{
		"request": {m.requestObject(t, e.issuer, codeRequest(challenge, state))},
		// outside the object: ignored (RFC 9101 §6.3)
		"state": {"outside-state"}, "scope": {"openid profile email"}, "response_mode": {"query"},
	})
	par := send(t, nil, "POST", e.issuer+authz.PathPAR, push, "", "", nil)
	requestURI, _ := par.body["request_uri"].(string)
	if par.status != http.StatusCreated || requestURI == "" {
		t.Fatalf("PAR: %d %v", par.status, par.body)
	}
	loc := e.login(newBrowser(t), e.issuer+authz.PathAuthorize+"?"+url.Values{"client_id": {m.c.ID}, "request_uri": {requestURI}}.Encode(), "alice", testPassword, true)
	if got := loc.Query(); len(got) != 1 || got.Get("response") == "" || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("want only a JARM response in the query, got %s", loc)
	}
	h, claims := verifyWithJWKS(t, e, loc.Query().Get("response"))
	if h.Algorithm != "ES256" || claims["iss"] != e.issuer || claims["aud"] != m.c.ID || claims["state"] != state {
		t.Fatalf("JARM header %+v claims %v", h, claims)
	}
	exp, _ := claims["exp"].(float64)
	if life := time.Until(time.Unix(int64(exp), 0)); life <= 0 || life > 10*time.Minute {
		t.Fatalf("JARM exp is %s away", life)
	}
	code, _ := claims["code"].(string)
	tokenURL := e.issuer + authz.PathToken
	tok := send(t, nil, "POST", tokenURL, m.auth(exchangeForm(code, verifier)), "", "", map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	at, _ := tok.body["access_token"].(string)
	if tok.status != http.StatusOK || tok.body["token_type"] != "DPoP" || at == "" {
		t.Fatalf("code exchange: %d %v", tok.status, tok.body)
	}
	if scope, _ := tok.body["scope"].(string); strings.Contains(scope, "email") {
		t.Fatalf("scope %q taken from outside the request object", scope)
	}

	// RFC 9701: the introspection answer as a JWT
	status, ctype, body := introspectJWT(t, e.issuer+authz.PathIntrospect, m.auth(url.Values{"token": {at}}))
	if status != http.StatusOK || ctype != "application/token-introspection+jwt" {
		t.Fatalf("introspection: %d %s %s", status, ctype, body)
	}
	h, claims = verifyWithJWKS(t, e, body)
	if typ, _ := h.ExtraHeaders["typ"].(string); typ != "token-introspection+jwt" {
		t.Fatalf("typ = %q", typ)
	}
	ti, _ := claims["token_introspection"].(map[string]any)
	if claims["iss"] != e.issuer || claims["aud"] != m.c.ID || claims["iat"] == nil || ti == nil || ti["active"] != true {
		t.Fatalf("introspection claims %v", claims)
	}
	if cnf, _ := ti["cnf"].(map[string]any); cnf == nil || cnf["jkt"] != k.jkt() || ti["token_type"] != "DPoP" {
		t.Fatalf("token_introspection lacks the DPoP binding: %v", ti)
	}
	// without the Accept header the answer stays JSON
	plainAnswer := send(t, nil, "POST", e.issuer+authz.PathIntrospect, m.auth(url.Values{"token": {at}}), "", "", nil)
	if plainAnswer.status != http.StatusOK || plainAnswer.body["active"] != true {
		t.Fatalf("JSON introspection: %d %v", plainAnswer.status, plainAnswer.body)
	}
}

// introspectJWT posts an introspection request asking for RFC 9701.
func introspectJWT(t *testing.T, u string, form url.Values) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/token-introspection+jwt")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

// TestFAPI2MessageSigningEnsureJARMErrorResponseSigned mirrors
// fapi2-message-signing-…-ensure-jarm-error-response-signed over HTTP: a
// pushed request with prompt=none and no session comes back as a signed
// JARM error (login_required, state), verified with the JWKS.
func TestFAPI2MessageSigningEnsureJARMErrorResponseSigned(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	m := newMSClient(t, e)
	_, challenge := pkcePair()
	state := randString()
	params := codeRequest(challenge, state)
	params["prompt"] = "none"
	par := send(t, nil, "POST", e.issuer+authz.PathPAR, m.auth(url.Values{"request": {m.requestObject(t, e.issuer, params)}}), "", "", nil)
	requestURI, _ := par.body["request_uri"].(string)
	if par.status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", par.status, par.body)
	}
	resp, body := newBrowser(t).get(e.issuer + authz.PathAuthorize + "?" + url.Values{"client_id": {m.c.ID}, "request_uri": {requestURI}}.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || len(loc.Query()) != 1 {
		t.Fatalf("want a redirect with only response, got %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, claims := verifyWithJWKS(t, e, loc.Query().Get("response"))
	if claims["error"] != "login_required" || claims["state"] != state || claims["aud"] != m.c.ID || claims["iss"] != e.issuer {
		t.Fatalf("JARM error claims %v", claims)
	}
}

// TestFAPI2MessageSigningRequestObjectFailuresOverHTTP: the refusals of
// the conformance modules, at the PAR endpoint over HTTP, are 400
// invalid_request_object: alg none, another client's key, expired, exp
// too far, aud missing, reuse.
func TestFAPI2MessageSigningRequestObjectFailuresOverHTTP(t *testing.T) {
	e := start(t)
	m := newMSClient(t, e)
	other := newMSClient(t, e)
	_, challenge := pkcePair()
	now := time.Now()
	pushRO := func(ro string) answer {
		return send(t, nil, "POST", e.issuer+authz.PathPAR, m.auth(url.Values{"request": {ro}}), "", "", nil)
	}
	valid := m.requestObject(t, e.issuer, codeRequest(challenge, randString()))
	parts := strings.Split(valid, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	forged := other.requestObject(t, e.issuer, map[string]any{"iss": m.c.ID, "client_id": m.c.ID})
	with := func(extra map[string]any) string {
		p := codeRequest(challenge, randString())
		for k, v := range extra {
			p[k] = v
		}
		return m.requestObject(t, e.issuer, p)
	}
	for name, ro := range map[string]string{
		"ensure-request-object-with-alg-none-fails":            none,
		"ensure-request-object-signed-by-other-client-fails":   forged,
		"ensure-expired-request-object-fails":                  with(map[string]any{"exp": now.Add(-time.Minute).Unix(), "nbf": now.Add(-5 * time.Minute).Unix()}),
		"ensure-request-object-with-long-exp-fails":            with(map[string]any{"exp": now.Add(2 * time.Hour).Unix()}),
		"ensure-request-object-missing-aud-fails":              with(map[string]any{"aud": nil}),
		"ensure-request-object-with-other-aud-fails":           with(map[string]any{"aud": "https://other-as.example"}),
		"ensure-request-object-with-other-clients-iss-fails":   with(map[string]any{"iss": other.c.ID}),
		"ensure-request-object-with-nbf-in-future-fails":       with(map[string]any{"nbf": now.Add(time.Minute).Unix()}),
		"ensure-request-object-without-jti-fails":              with(map[string]any{"jti": nil}),
		"ensure-request-object-with-request-uri-inside-fails":  with(map[string]any{"request_uri": "https://attacker.example/ro"}),
		"ensure-request-object-with-unregistered-alg-rs-fails": strings.Replace(valid, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`)), 1),
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, name, pushRO(ro), http.StatusBadRequest, "invalid_request_object")
		})
	}
	t.Run("ensure-request-object-reuse-fails", func(t *testing.T) {
		if a := pushRO(valid); a.status != http.StatusCreated {
			t.Fatalf("first use: %d %v", a.status, a.body)
		}
		wantError(t, "reuse", pushRO(valid), http.StatusBadRequest, "invalid_request_object")
	})
	t.Run("request-uri-not-par", func(t *testing.T) {
		resp, _ := newBrowser(t).get(e.issuer + authz.PathAuthorize + "?" + url.Values{"client_id": {m.c.ID}, "request_uri": {"https://attacker.example/ro"}}.Encode())
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("foreign request_uri: %d", resp.StatusCode)
		}
	})
}

// TestDiscoverySignedRequestsAndResponses: discovery advertises JAR, JARM
// and RFC 9701.
func TestDiscoverySignedRequestsAndResponses(t *testing.T) {
	e := start(t)
	resp, err := http.Get(e.issuer + authz.PathOIDCDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	has := func(field, v string) bool {
		list, _ := d[field].([]any)
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	if d["request_parameter_supported"] != true || d["require_signed_request_object"] != false {
		t.Fatalf("request_parameter_supported %v, require_signed_request_object %v", d["request_parameter_supported"], d["require_signed_request_object"])
	}
	for _, c := range []struct{ field, v string }{
		{"request_object_signing_alg_values_supported", "PS256"}, {"request_object_signing_alg_values_supported", "ES256"},
		{"request_object_signing_alg_values_supported", "EdDSA"},
		{"response_modes_supported", "jwt"}, {"response_modes_supported", "query.jwt"},
		{"response_modes_supported", "fragment.jwt"}, {"response_modes_supported", "form_post.jwt"},
		{"authorization_signing_alg_values_supported", "ES256"}, {"introspection_signing_alg_values_supported", "ES256"},
	} {
		if !has(c.field, c.v) {
			t.Errorf("%s lacks %s: %v", c.field, c.v, d[c.field])
		}
	}
	if has("request_object_signing_alg_values_supported", "none") || has("request_object_signing_alg_values_supported", "HS256") {
		t.Error("request objects advertised unsigned or with HMAC")
	}
}

// TestRequestObjectByValueAtAuthorizeWithFormPostJWT: a client registered
// with require_signed_request_object sends its request object by value to
// the authorization endpoint, with other values beside it (ignored,
// …-ensure-params-outside-request-object-ignored); after login and consent
// the answer is the form_post.jwt page: an auto-submitting form to the
// object's redirect URI whose only field is the JARM response, verified
// with the JWKS. The same request unsigned is refused.
func TestRequestObjectByValueAtAuthorizeWithFormPostJWT(t *testing.T) {
	e := start(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	c := webClient("authorization_code")
	c.RedirectURIs = []string{redirectURI, redirectURI + "/other"}
	c.JWKS = set
	c.Metadata.RequireSignedRequestObject = true
	e.createClient(c)
	m := &msClient{c: c, key: key}
	_, challenge := pkcePair()
	state := randString()
	params := codeRequest(challenge, state)
	params["response_mode"] = "form_post.jwt"
	params["scope"] = "openid"

	plain := url.Values{"client_id": {c.ID}}
	for k, v := range params {
		plain.Set(k, v.(string))
	}
	plain.Set("response_mode", "jwt")
	resp, _ := newBrowser(t).get(e.issuer + authz.PathAuthorize + "?" + plain.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("response") == "" {
		t.Fatalf("unsigned request of a client that must sign: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, claims := verifyWithJWKS(t, e, loc.Query().Get("response")); claims["error"] != "invalid_request" {
		t.Fatalf("unsigned request of a client that must sign: %v", claims)
	}

	q := url.Values{
		"client_id": {c.ID}, "request": {m.requestObject(t, e.issuer, params)},
		"redirect_uri": {redirectURI + "/other"}, "state": {"outside-state"}, "response_mode": {"query"}, "scope": {"openid email"},
	}
	b := newBrowser(t)
	resp, body := b.get(e.issuer + authz.PathAuthorize + "?" + q.Encode())
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("expected the login page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	resp, body = b.post(e.issuer+"/login", f)
	if resp.Request.URL.Path != "/consent" {
		t.Fatalf("expected the consent page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if strings.Contains(body, "email") {
		t.Error("the consent page asks for a scope from outside the request object")
	}
	f = formFields(t, body)
	f.Set("decision", "allow")
	resp, body = b.post(e.issuer+"/consent", f)
	fields := formFields(t, body)
	if resp.StatusCode != http.StatusOK || len(fields) != 1 || fields.Get("response") == "" ||
		!strings.Contains(body, `action="`+redirectURI+`"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("want the form_post.jwt page posting only response to %s, got %d %v\n%s", redirectURI, resp.StatusCode, fields, body)
	}
	_, claims := verifyWithJWKS(t, e, fields.Get("response"))
	if claims["state"] != state || claims["aud"] != c.ID || claims["code"] == nil {
		t.Fatalf("JARM claims %v", claims)
	}
}
