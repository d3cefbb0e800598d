package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// roSigner signs request objects for one client.
type roSigner struct {
	t      *testing.T
	client string
	alg    jose.SignatureAlgorithm
	key    *ecdsa.PrivateKey
	kid    string
	now    time.Time
	n      int
}

func newROSigner(t *testing.T, client string, now time.Time) *roSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return &roSigner{t: t, client: client, alg: jose.ES256, key: k, kid: client + "-k1", now: now}
}

// jwks is the client's public JWK Set.
func (s *roSigner) jwks() []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Use: "sig", Algorithm: string(s.alg)}}})
	must(s.t, err)
	return b
}

// sign signs a request object with params plus iss, client_id, aud, exp,
// nbf, iat and jti filled in unless given (a nil value drops the claim).
func (s *roSigner) sign(params map[string]any) string {
	s.t.Helper()
	s.n++
	c := map[string]any{
		"iss": s.client, "client_id": s.client, "aud": "https://as.example",
		"exp": s.now.Add(5 * time.Minute).Unix(), "nbf": s.now.Unix(), "iat": s.now.Unix(),
		"jti":           fmt.Sprintf("%s-ro-%d-%d", s.client, s.n, time.Now().UnixNano()),
		"response_type": "code", "redirect_uri": "https://" + s.client + ".example/cb", "scope": "openid",
		"state": "state-0123456789", "code_challenge": testChallenge, "code_challenge_method": "S256",
	}
	for k, v := range params {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt").WithHeader("kid", s.kid))
	must(s.t, err)
	payload, err := json.Marshal(c)
	must(s.t, err)
	sig, err := signer.Sign(payload)
	must(s.t, err)
	out, err := sig.CompactSerialize()
	must(s.t, err)
	return out
}

// jarClient is a confidential client (client_secret_basic) that signs its
// request objects with s's key.
func jarClient(t *testing.T, s *roSigner, hash []byte) *storage.Client {
	c := testClient(s.client)
	c.TokenEndpointAuthMethod = storage.AuthMethodSecretBasic
	c.Secrets = []storage.ClientSecret{{Hash: hash}}
	c.JWKS = s.jwks()
	c.Metadata.RequireSignedRequestObject = true
	c.Metadata.RequestObjectSigningAlg = "ES256"
	return c
}

const jarSecret = "jar-client-secret-0123456789abcdef"

// jarFixture is a token service with two JAR clients, "bank" and "other".
type jarFixture struct {
	p           *Tokens
	a           *Authorizer
	bank, other *roSigner
}

func newJARFixture(t *testing.T) *jarFixture {
	t.Helper()
	store := newMemoryStore(t)
	p := newTestTokens(t, store)
	now := time.Now().Truncate(time.Second)
	p.now = func() time.Time { return now }
	h, err := p.hasher.Hash(t.Context(), []byte(jarSecret))
	must(t, err)
	f := &jarFixture{p: p, a: &Authorizer{p.core}, bank: newROSigner(t, "bank", now), other: newROSigner(t, "other", now)}
	must(t, store.CreateClient(t.Context(), jarClient(t, f.bank, h)))
	must(t, store.CreateClient(t.Context(), jarClient(t, f.other, h)))
	return f
}

// push sends form to the PAR endpoint authenticated as client.
func (f *jarFixture) push(t *testing.T, client string, form url.Values) (map[string]any, error) {
	t.Helper()
	r := authRequest(t, authz.PathPAR, form, client, jarSecret)
	_, body, err := f.p.PushAuthorize(t.Context(), r)
	return body, err
}

// authorize parses an authorization endpoint request with query q.
func (f *jarFixture) authorize(t *testing.T, q url.Values) (fosite.AuthorizeRequester, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, authz.PathAuthorize+"?"+q.Encode(), nil)
	return f.a.NewAuthorizeRequest(t.Context(), r)
}

func wantRequestObjectError(t *testing.T, err error, hint string) {
	t.Helper()
	wantRFC(t, err, "invalid_request_object", http.StatusBadRequest)
	if rfc := fosite.ErrorToRFC6749Error(err); !strings.Contains(rfc.HintField, hint) {
		t.Fatalf("hint = %q, want it to mention %q", rfc.HintField, hint)
	}
}

// TestFAPI2MessageSigningEnsureRequestObjectWithAlgNoneFails mirrors
// fapi2-message-signing-…-ensure-request-object-with-alg-none-fails: an
// unsigned request object (alg none) is invalid_request_object at PAR and at
// the authorization endpoint.
func TestFAPI2MessageSigningEnsureRequestObjectWithAlgNoneFails(t *testing.T) {
	f := newJARFixture(t)
	signed := f.bank.sign(nil)
	parts := strings.Split(signed, ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"oauth-authz-req+jwt"}`))
	for _, none := range []string{header + "." + parts[1] + ".", header + "." + parts[1] + "." + parts[2]} {
		_, err := f.push(t, "bank", url.Values{"request": {none}})
		wantRequestObjectError(t, err, "never none")
		_, err = f.authorize(t, url.Values{"client_id": {"bank"}, "request": {none}})
		wantRequestObjectError(t, err, "never none")
	}
	_, err := f.push(t, "bank", url.Values{"request": {signed}})
	must(t, err) // the same claims, signed, pass
}

// TestFAPI2MessageSigningEnsureRequestObjectSignedByOtherClientFails
// mirrors …-ensure-request-object-signed-by-other-client-fails: an object
// for "bank" signed with another client's key, and an object issued by
// another client (its iss and client_id), are refused for "bank".
func TestFAPI2MessageSigningEnsureRequestObjectSignedByOtherClientFails(t *testing.T) {
	f := newJARFixture(t)
	forged := *f.other
	forged.client, forged.kid = "bank", f.bank.kid // bank's claims and kid, other's key
	_, err := f.push(t, "bank", url.Values{"request": {forged.sign(nil)}})
	wantRequestObjectError(t, err, "signature does not verify")

	// other's own valid object, pushed by bank
	_, err = f.push(t, "bank", url.Values{"request": {f.other.sign(nil)}})
	wantRFC(t, err, "invalid_request_object", http.StatusBadRequest)
	_, err = f.push(t, "bank", url.Values{"client_id": {"bank"}, "request": {f.other.sign(nil)}})
	wantRequestObjectError(t, err, "client_id")
	_, err = f.authorize(t, url.Values{"client_id": {"bank"}, "request": {f.other.sign(nil)}})
	wantRequestObjectError(t, err, "client_id")
	// iss naming another client than client_id
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"iss": "other"})}})
	wantRequestObjectError(t, err, "iss")
}

// TestFAPI2MessageSigningEnsureRequestObjectWithUnregisteredKeyFails: a key
// the client did not register (unknown kid, or a fresh key under its kid)
// does not verify.
func TestFAPI2MessageSigningEnsureRequestObjectWithUnregisteredKeyFails(t *testing.T) {
	f := newJARFixture(t)
	stranger := newROSigner(t, "bank", f.bank.now)
	_, err := f.push(t, "bank", url.Values{"request": {stranger.sign(nil)}})
	wantRequestObjectError(t, err, "signature does not verify")
	stranger.kid = f.bank.kid
	_, err = f.push(t, "bank", url.Values{"request": {stranger.sign(nil)}})
	wantRequestObjectError(t, err, "signature does not verify")
}

// TestFAPI2MessageSigningEnsureExpiredRequestObjectFails mirrors
// …-ensure-expired-request-object-fails; a missing exp fails too.
func TestFAPI2MessageSigningEnsureExpiredRequestObjectFails(t *testing.T) {
	f := newJARFixture(t)
	now := f.bank.now
	_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"exp": now.Add(-time.Second).Unix(), "nbf": now.Add(-10 * time.Minute).Unix()})}})
	wantRequestObjectError(t, err, "expired")
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"exp": nil})}})
	wantRequestObjectError(t, err, "exp")
}

// TestFAPI2MessageSigningEnsureRequestObjectWithLongExpFails mirrors
// …-ensure-request-object-with-long-exp-fails: exp more than 60 minutes
// ahead (or after nbf) is refused; 60 minutes pass.
func TestFAPI2MessageSigningEnsureRequestObjectWithLongExpFails(t *testing.T) {
	f := newJARFixture(t)
	now := f.bank.now
	_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"exp": now.Add(61 * time.Minute).Unix()})}})
	wantRequestObjectError(t, err, "too far in the future")
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"exp": now.Add(60 * time.Minute).Unix()})}})
	must(t, err)
}

// TestFAPI2MessageSigningEnsureRequestObjectWithFutureNbfFails mirrors
// …-ensure-request-object-with-nbf-in-future-fails (10 s skew allowed) and
// …-ensure-request-object-with-nbf-too-far-in-past-fails.
func TestFAPI2MessageSigningEnsureRequestObjectWithFutureNbfFails(t *testing.T) {
	f := newJARFixture(t)
	now := f.bank.now
	_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"nbf": now.Add(11 * time.Second).Unix()})}})
	wantRequestObjectError(t, err, "nbf")
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"nbf": now.Add(-61 * time.Minute).Unix()})}})
	wantRequestObjectError(t, err, "nbf")
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"nbf": now.Add(10 * time.Second).Unix()})}})
	must(t, err)
}

// TestFAPI2MessageSigningEnsureRequestObjectMissingAudFails mirrors
// …-ensure-request-object-missing-aud-fails and
// …-ensure-request-object-invalid-aud-fails: aud must be the issuer, alone.
func TestFAPI2MessageSigningEnsureRequestObjectMissingAudFails(t *testing.T) {
	f := newJARFixture(t)
	for name, aud := range map[string]any{
		"missing":    nil,
		"other":      "https://other-as.example",
		"token-url":  "https://as.example/oauth2/token",
		"with-other": []string{"https://as.example", "https://other-as.example"},
	} {
		_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"aud": aud})}})
		if err == nil {
			t.Fatalf("aud %s: accepted", name)
		}
		wantRequestObjectError(t, err, "aud")
	}
	_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"aud": []string{"https://as.example"}})}})
	must(t, err)
}

// TestFAPI2MessageSigningEnsureRequestObjectReuseFails mirrors
// …-ensure-request-object-reuse-fails (jti single use, at PAR and at the
// authorization endpoint); an object refused for another reason, or pushed
// by a caller who could not authenticate, does not burn its jti.
func TestFAPI2MessageSigningEnsureRequestObjectReuseFails(t *testing.T) {
	f := newJARFixture(t)
	ro := f.bank.sign(nil)
	r := authRequest(t, authz.PathPAR, url.Values{"request": {ro}}, "bank", "wrong-secret")
	_, _, err := f.p.PushAuthorize(t.Context(), r)
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
	_, err = f.push(t, "bank", url.Values{"request": {ro}})
	must(t, err)
	_, err = f.push(t, "bank", url.Values{"request": {ro}})
	wantRequestObjectError(t, err, "used before")
	_, err = f.authorize(t, url.Values{"client_id": {"bank"}, "request": {ro}})
	wantRequestObjectError(t, err, "used before")

	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"jti": nil})}})
	wantRequestObjectError(t, err, "jti")
	// jtis are per client: "other" may use the jti "bank" used
	ro2 := f.other.sign(map[string]any{"jti": "shared-jti"})
	_, err = f.push(t, "other", url.Values{"request": {ro2}})
	must(t, err)
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"jti": "shared-jti"})}})
	must(t, err)
}

// TestFAPI2MessageSigningEnsureParamsOutsideRequestObjectIgnored mirrors
// …-ensure-params-outside-request-object-ignored (RFC 9101 §6.3): a
// parameter beside the object never reaches the request, at PAR and at the
// authorization endpoint, even where fosite would merge it (openid scope).
func TestFAPI2MessageSigningEnsureParamsOutsideRequestObjectIgnored(t *testing.T) {
	f := newJARFixture(t)
	outside := url.Values{
		"redirect_uri": {"https://bank.example/cb2"}, "scope": {"openid email"}, "state": {"outside-state-0123"},
		"nonce": {"outside-nonce"}, "response_mode": {"fragment"}, "prompt": {"none"}, "max_age": {"0"},
	}
	check := func(t *testing.T, ar fosite.AuthorizeRequester) {
		t.Helper()
		form := ar.GetRequestForm()
		if got := ar.GetRedirectURI().String(); got != "https://bank.example/cb" {
			t.Errorf("redirect_uri = %s, want the object's", got)
		}
		if ar.GetState() != "state-0123456789" || form.Get("state") != "state-0123456789" {
			t.Errorf("state = %q, want the object's", ar.GetState())
		}
		if got := ar.GetRequestedScopes(); len(got) != 1 || got[0] != "openid" {
			t.Errorf("scope = %v, want the object's", got)
		}
		for _, k := range []string{"nonce", "prompt", "max_age", "response_mode", "request"} {
			if form.Has(k) {
				t.Errorf("%s = %q taken from outside the request object", k, form.Get(k))
			}
		}
		if ar.GetResponseMode() == fosite.ResponseModeFragment {
			t.Error("response_mode taken from outside the request object")
		}
	}
	// authorization endpoint
	q := url.Values{"client_id": {"bank"}, "request": {f.bank.sign(nil)}}
	for k, v := range outside {
		q[k] = v
	}
	ar, err := f.authorize(t, q)
	must(t, err)
	check(t, ar)

	// PAR: the stored request is the object's, read back at authorize
	form := url.Values{"request": {f.bank.sign(nil)}}
	for k, v := range outside {
		form[k] = v
	}
	body, err := f.push(t, "bank", form)
	must(t, err)
	ar, err = f.authorize(t, url.Values{"client_id": {"bank"}, "request_uri": {body["request_uri"].(string)}, "scope": {"openid email"}})
	must(t, err)
	check(t, ar)
}

// TestFAPI2MessageSigningEnsureUnsignedRequestFails: a client registered
// with require_signed_request_object cannot push or send a plain request.
func TestFAPI2MessageSigningEnsureUnsignedRequestFails(t *testing.T) {
	f := newJARFixture(t)
	plain := url.Values{
		"response_type": {"code"}, "redirect_uri": {"https://bank.example/cb"}, "scope": {"openid"},
		"state": {"state-0123456789"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"},
	}
	_, err := f.push(t, "bank", plain)
	wantRFC(t, err, "invalid_request", http.StatusBadRequest)
	q := url.Values{"client_id": {"bank"}}
	for k, v := range plain {
		q[k] = v
	}
	_, err = f.authorize(t, q)
	wantRFC(t, err, "invalid_request", http.StatusBadRequest)
	if rfc := fosite.ErrorToRFC6749Error(err); !strings.Contains(rfc.HintField, "signed request objects") {
		t.Fatalf("hint = %q", rfc.HintField)
	}
}

// TestRequestURIOtherThanPARNotSupported: the server never fetches a
// request object by reference: any request_uri that is not one of its PAR
// URNs is request_uri_not_supported; request next to request_uri is
// invalid_request.
func TestRequestURIOtherThanPARNotSupported(t *testing.T) {
	f := newJARFixture(t)
	_, err := f.authorize(t, url.Values{"client_id": {"bank"}, "request_uri": {"https://attacker.example/ro.jwt"}, "scope": {"openid"}})
	wantRFC(t, err, "request_uri_not_supported", http.StatusBadRequest)
	_, err = f.authorize(t, url.Values{"client_id": {"bank"}, "request_uri": {parPrefix + "x"}, "request": {f.bank.sign(nil)}})
	wantRFC(t, err, "invalid_request", http.StatusBadRequest)
	_, err = f.push(t, "bank", url.Values{"request": {f.bank.sign(map[string]any{"request_uri": "https://attacker.example/ro"})}})
	wantRequestObjectError(t, err, "request_uri")
}

// TestFAPI2MessageSigningRequestObjectAlgorithms: the registered
// request_object_signing_alg is enforced, and a FAPI 2.0 client's object
// needs nbf.
func TestFAPI2MessageSigningRequestObjectAlgorithms(t *testing.T) {
	f := newJARFixture(t)
	must(t, f.p.store.UpdateClient(t.Context(), "bank", func(c *storage.Client) error {
		c.Metadata.RequestObjectSigningAlg = "PS256"
		return nil
	}))
	f.p.clients.Invalidate("bank")
	_, err := f.push(t, "bank", url.Values{"request": {f.bank.sign(nil)}})
	wantRequestObjectError(t, err, "request_object_signing_alg PS256")

	must(t, f.p.store.UpdateClient(t.Context(), "other", func(c *storage.Client) error {
		c.Metadata.Profile = storage.ProfileFAPI2MessageSigning
		return nil
	}))
	f.p.clients.Invalidate("other")
	_, err = f.push(t, "other", url.Values{"request": {f.other.sign(map[string]any{"nbf": nil})}})
	wantRequestObjectError(t, err, "nbf")
}

// TestRequestObjectParams: claims become parameters; JWT claims do not.
func TestRequestObjectParams(t *testing.T) {
	var all map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"iss":"c","aud":"a","exp":1,"jti":"j","client_id":"c","max_age":300,
		"resource":["https://a.example","https://b.example"],"claims":{"id_token":{"acr":null}},
		"authorization_details":[{"type":"payment_initiation","instructedAmount":{"amount":"250.00"}}]}`))
	dec.UseNumber()
	must(t, dec.Decode(&all))
	got, err := requestObjectParams(all)
	must(t, err)
	for _, k := range []string{"iss", "aud", "exp", "jti"} {
		if got.Has(k) {
			t.Errorf("JWT claim %s became a parameter", k)
		}
	}
	if got.Get("max_age") != "300" || got.Get("client_id") != "c" || len(got["resource"]) != 2 {
		t.Errorf("params = %v", got)
	}
	if got.Get("claims") != `{"id_token":{"acr":null}}` {
		t.Errorf("claims = %s", got.Get("claims"))
	}
	var details []map[string]any
	if err := json.Unmarshal([]byte(got.Get("authorization_details")), &details); err != nil || details[0]["type"] != "payment_initiation" {
		t.Errorf("authorization_details = %s (%v)", got.Get("authorization_details"), err)
	}
}

// TestRequestObjectWithForeignTypFails: a JWT of another kind the client
// signed (a DPoP proof, a client assertion typed "at+jwt", ...) is not a
// request object (RFC 9101 §10.8 explicit typing): invalid_request_object,
// though its signature is the client's.
func TestRequestObjectWithForeignTypFails(t *testing.T) {
	f := newJARFixture(t)
	for _, typ := range []string{"dpop+jwt", "at+jwt", "client-authentication+jwt"} {
		claims := map[string]any{"iss": "bank", "client_id": "bank", "aud": "https://as.example",
			"exp": f.bank.now.Add(5 * time.Minute).Unix(), "nbf": f.bank.now.Unix(), "iat": f.bank.now.Unix(),
			"jti": "foreign-" + typ, "response_type": "code", "redirect_uri": "https://bank.example/cb", "scope": "openid",
			"state": "state-0123456789", "code_challenge": testChallenge, "code_challenge_method": "S256"}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: f.bank.alg, Key: f.bank.key},
			(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", f.bank.kid))
		must(t, err)
		payload, err := json.Marshal(claims)
		must(t, err)
		sig, err := signer.Sign(payload)
		must(t, err)
		ro, err := sig.CompactSerialize()
		must(t, err)
		_, err = f.push(t, "bank", url.Values{"request": {ro}})
		wantRequestObjectError(t, err, "typ")
	}
}
