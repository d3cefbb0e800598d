package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// paymentJSON is a payment_initiation object (RFC 9396, the built-in type).
func paymentJSON(amount, creditor, iban string) string {
	return `{"type":"payment_initiation","actions":["initiate","status"],` +
		`"instructedAmount":{"currency":"EUR","amount":"` + amount + `"},` +
		`"creditorName":"` + creditor + `","creditorAccount":{"iban":"` + iban + `"},` +
		`"remittanceInformationUnstructured":"Invoice 2026-042"}`
}

const (
	ibanACME = "DE89370400440532013000"
	ibanBeta = "GB82WEST12345698765432"
)

// paymentClient is a confidential client allowed payment_initiation, with
// JWT access tokens and refresh tokens.
func paymentClient() *storage.Client {
	c := webClient("authorization_code", "refresh_token", "client_credentials")
	c.AccessTokenFormat = storage.TokenFormatJWT
	c.Metadata.AuthorizationDetailsTypes = []string{"payment_initiation"}
	return c
}

// canonical re-encodes a JSON value the way the server keeps it (sorted
// keys), so answers can be compared with what was sent.
func canonical(t *testing.T, v any) string {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	b, _ = json.Marshal(out)
	return string(b)
}

// claimsOf are the claims of a JWT (jwtClaims without the raw payload).
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	m, _ := jwtClaims(t, token)
	return m
}

// The whole payment flow over HTTP: a pushed request carrying two
// payments, the consent page showing them in plain words, the token
// response, the JWT access token and introspection carrying them, a
// refresh narrowed to one payment (a wider one refused), and consent
// remembered only for exactly the same details.
func TestPaymentInitiationThroughPARConsentTokenIntrospectionAndRefresh(t *testing.T) {
	e := start(t)
	c := paymentClient()
	secret := e.createClient(c)
	pay1, pay2 := paymentJSON("250.00", "ACME Ltd", ibanACME), paymentJSON("12.50", "Beta GmbH", ibanBeta)
	details := "[" + pay1 + "," + pay2 + "]"

	push := func(details string) (string, string) {
		verifier, challenge := pkcePair()
		code, m := postForm(t, e.issuer+"/oauth2/par", url.Values{
			"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI},
			"scope": {"openid offline_access"}, "state": {randString()}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}, "authorization_details": {details},
		}, c.ID, secret)
		if code != http.StatusCreated {
			t.Fatalf("PAR: %d %v", code, m)
		}
		return e.issuer + "/oauth2/authorize?" + url.Values{"client_id": {c.ID}, "request_uri": {m["request_uri"].(string)}}.Encode(), verifier
	}
	authURL, verifier := push(details)

	b := newBrowser(t)
	resp, body := b.get(authURL)
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
	for _, want := range []string{"Pay €250.00 to ACME Ltd", "DE89 3704 0044 0532 0130 00", "Pay €12.50 to Beta GmbH", "GB82 WEST 1234 5698 7654 32", "Invoice 2026-042"} {
		if !strings.Contains(body, want) {
			t.Errorf("the consent page does not say %q", want)
		}
	}
	f = formFields(t, body)
	f.Set("decision", "allow")
	resp, _ = b.post(e.issuer+"/consent", f)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %d %s", resp.StatusCode, loc)
	}

	status, tok := postForm(t, e.issuer+"/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}, c.ID, secret)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	want := canonical(t, details)
	if got := canonical(t, tok["authorization_details"]); got != want {
		t.Fatalf("token response authorization_details %s, want %s", got, want)
	}
	at := tok["access_token"].(string)
	if got := canonical(t, claimsOf(t, at)["authorization_details"]); got != want {
		t.Fatalf("JWT claim authorization_details %s, want %s", got, want)
	}
	introspect := func(token string) map[string]any {
		t.Helper()
		_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {token}}, c.ID, secret)
		if m["active"] != true {
			t.Fatalf("introspection: %v", m)
		}
		return m
	}
	if got := canonical(t, introspect(at)["authorization_details"]); got != want {
		t.Fatalf("introspection authorization_details %s, want %s", got, want)
	}

	// kept on the grant: users grants list reads it
	consents, err := e.Server.Store.ListConsents(context.Background(), e.userID)
	if err != nil || len(consents) != 1 || canonical(t, string(consents[0].AuthorizationDetails)) != want {
		t.Fatalf("grant: %v %+v", err, consents)
	}

	// refresh narrowed to the second payment
	rt := tok["refresh_token"].(string)
	status, narrowed := postForm(t, e.issuer+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "authorization_details": {"[" + pay2 + "]"},
	}, c.ID, secret)
	if status != http.StatusOK {
		t.Fatalf("narrowing refresh: %d %v", status, narrowed)
	}
	wantOne := canonical(t, "["+pay2+"]")
	if got := canonical(t, narrowed["authorization_details"]); got != wantOne {
		t.Fatalf("narrowed token response %s, want %s", got, wantOne)
	}
	if got := canonical(t, introspect(narrowed["access_token"].(string))["authorization_details"]); got != wantOne {
		t.Fatalf("narrowed token introspection %s, want %s", got, wantOne)
	}
	if got := canonical(t, claimsOf(t, narrowed["access_token"].(string))["authorization_details"]); got != wantOne {
		t.Fatalf("narrowed JWT claim %s", got)
	}
	// the new refresh token keeps the whole grant
	rt = narrowed["refresh_token"].(string)
	status, whole := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	if status != http.StatusOK || canonical(t, whole["authorization_details"]) != want {
		t.Fatalf("refresh without authorization_details: %d %v, want the whole grant", status, whole)
	}
	// a refresh may never widen: another amount is refused, the token stays usable
	rt = whole["refresh_token"].(string)
	status, m := postForm(t, e.issuer+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "authorization_details": {"[" + paymentJSON("12.51", "Beta GmbH", ibanBeta) + "]"},
	}, c.ID, secret)
	if status != http.StatusBadRequest || m["error"] != "invalid_authorization_details" {
		t.Fatalf("widening refresh: %d %v", status, m)
	}
	if status, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret); status != http.StatusOK {
		t.Fatalf("refresh after a refused widening: %d %v", status, m)
	}

	// consent is remembered for exactly these details...
	again, _ := push(details)
	resp, _ = b.get(again)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("the same payments asked again: %d %s", resp.StatusCode, resp.Request.URL)
	}
	// ...a new payment always asks, though every scope was consented
	other, _ := push("[" + paymentJSON("250.01", "ACME Ltd", ibanACME) + "]")
	resp, body = b.get(other)
	if resp.Request.URL.Path != "/consent" || !strings.Contains(body, "Pay €250.01 to ACME Ltd") {
		t.Fatalf("a new payment did not ask: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

// Every refusal is invalid_authorization_details: 400 at PAR and the token
// endpoint, an error redirect at the authorization endpoint; nothing is
// stored. client_credentials carries details like the code flow.
func TestAuthorizationDetailsRefusedAndClientCredentials(t *testing.T) {
	e := start(t)
	c := paymentClient()
	secret := e.createClient(c)
	other := webClient("authorization_code", "client_credentials") // no types allowed
	otherSecret := e.createClient(other)
	now := time.Now()
	if err := e.Server.Store.CreateAuthorizationType(context.Background(), &storage.AuthorizationType{
		Type: "account_information", Schema: []byte(`{"type":"object","required":["type","accounts"],"properties":{"accounts":{"type":"array","minItems":1}}}`),
		CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}

	par := func(clientID, secret, details string) (int, map[string]any) {
		_, challenge := pkcePair()
		return postForm(t, e.issuer+"/oauth2/par", url.Values{
			"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "authorization_details": {details},
		}, clientID, secret)
	}
	good := "[" + paymentJSON("250.00", "ACME Ltd", ibanACME) + "]"
	for name, tc := range map[string]struct {
		clientID, secret, details string
	}{
		"fail/client-not-allowed-the-type": {other.ID, otherSecret, good},
		"fail/schema-violation":            {c.ID, secret, "[" + strings.Replace(paymentJSON("250.00", "ACME Ltd", ibanACME), `"creditorName":"ACME Ltd",`, "", 1) + "]"},
		"fail/iban-checksum":               {c.ID, secret, "[" + paymentJSON("250.00", "ACME Ltd", "DE89370400440532013001") + "]"},
		"fail/malformed-json":              {c.ID, secret, `[{"type":"payment_initiation"`},
		"fail/not-an-array":                {c.ID, secret, paymentJSON("250.00", "ACME Ltd", ibanACME)},
		"fail/unknown-type":                {c.ID, secret, `[{"type":"crypto_transfer"}]`},
		"fail/registered-type-not-allowed": {c.ID, secret, `[{"type":"account_information","accounts":["a1"]}]`},
		"fail/too-large":                   {c.ID, secret, "[" + paymentJSON("250.00", strings.Repeat("A", 5000), ibanACME) + "]"},
	} {
		t.Run(name, func(t *testing.T) {
			status, m := par(tc.clientID, tc.secret, tc.details)
			if status != http.StatusBadRequest || m["error"] != "invalid_authorization_details" {
				t.Fatalf("PAR: %d %v, want 400 invalid_authorization_details", status, m)
			}
			if d, _ := m["error_description"].(string); strings.Contains(d, "goroutine") || strings.Contains(d, ".go:") {
				t.Fatalf("internals in the answer: %q", d)
			}
		})
	}

	t.Run("fail/front-channel-error-redirect", func(t *testing.T) {
		_, challenge := pkcePair()
		q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"state": {"state-0001"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "authorization_details": {`[{"type":`}}
		resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q.Encode())
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_authorization_details" ||
			loc.Query().Get("state") != "state-0001" || loc.Query().Get("iss") != e.issuer {
			t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
		}
	})

	t.Run("ok/client-credentials", func(t *testing.T) {
		status, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "authorization_details": {good}}, c.ID, secret)
		if status != http.StatusOK || canonical(t, m["authorization_details"]) != canonical(t, good) {
			t.Fatalf("client_credentials: %d %v", status, m)
		}
		if got := canonical(t, claimsOf(t, m["access_token"].(string))["authorization_details"]); got != canonical(t, good) {
			t.Fatalf("claim %s", got)
		}
	})
	t.Run("fail/client-credentials-not-allowed", func(t *testing.T) {
		status, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "authorization_details": {good}}, other.ID, otherSecret)
		if status != http.StatusBadRequest || m["error"] != "invalid_authorization_details" {
			t.Fatalf("client_credentials: %d %v", status, m)
		}
	})
	t.Run("ok/registered-type", func(t *testing.T) {
		if err := e.Server.Store.UpdateClient(context.Background(), c.ID, func(cl *storage.Client) error {
			cl.Metadata.AuthorizationDetailsTypes = append(cl.Metadata.AuthorizationDetailsTypes, "account_information")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e.Server.OAuth.Clients.Invalidate(c.ID)
		if status, m := par(c.ID, secret, `[{"type":"account_information","accounts":["a1"]}]`); status != http.StatusCreated {
			t.Fatalf("PAR: %d %v", status, m)
		}
		if status, m := par(c.ID, secret, `[{"type":"account_information","accounts":[]}]`); status != http.StatusBadRequest || m["error"] != "invalid_authorization_details" {
			t.Fatalf("PAR with a schema violation: %d %v", status, m)
		}
	})
	t.Run("ok/discovery-lists-types", func(t *testing.T) {
		resp, body := newBrowser(t).get(e.issuer + "/.well-known/openid-configuration")
		var d map[string]any
		if err := json.Unmarshal([]byte(body), &d); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: %d %v", resp.StatusCode, err)
		}
		if got := canonical(t, d["authorization_details_types_supported"]); got != `["account_information","payment_initiation"]` {
			t.Fatalf("authorization_details_types_supported %s", got)
		}
	})
}
