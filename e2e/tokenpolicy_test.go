package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

const (
	payAPI      = "https://api.example.test/pay"
	payAdminAPI = "https://api.example.test/pay/admin"
)

// authCode runs an authorization request for c in browser b (logging in
// when b has no session, consenting when consent is true) and returns the
// code and its PKCE verifier. extra adds or replaces request parameters.
func (e *env) authCode(t *testing.T, b *browser, c *storage.Client, extra url.Values, consent bool) (code, verifier string) {
	t.Helper()
	verifier, challenge := pkcePair()
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid offline_access"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	authURL := e.issuer + "/oauth2/authorize?" + q.Encode()
	var loc *url.URL
	if resp, _ := b.get(authURL); resp.StatusCode == http.StatusSeeOther {
		loc, _ = url.Parse(resp.Header.Get("Location"))
	} else {
		loc = e.login(b, authURL, "alice", testPassword, consent)
	}
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", loc)
	}
	return code, verifier
}

func exchangeForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

// jwtClaims decodes a JWS payload without verifying it.
func jwtClaims(t *testing.T, token string) (map[string]any, string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, string(b)
}

func TestPKCEFailureBurnsTheCode(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	b := newBrowser(t)
	wrong, _ := pkcePair()
	for _, tc := range []struct {
		name  string
		first string // verifier of the failing first attempt
	}{
		{"wrong verifier", wrong},
		{"no verifier", ""},
		{"malformed verifier", "short"},
	} {
		code, verifier := e.authCode(t, b, c, nil, tc.name == "wrong verifier")
		st, m := postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, tc.first), c.ID, secret)
		if st != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%s: first attempt %d %v", tc.name, st, m)
		}
		// the second try without a verifier must not skip PKCE
		if st, m := postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, ""), c.ID, secret); st != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%s: retry without code_verifier: %d %v", tc.name, st, m)
		}
		// and the code is burnt: even the right verifier fails now
		if st, m := postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, verifier), c.ID, secret); st != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%s: right verifier after a PKCE failure: %d %v", tc.name, st, m)
		}
	}
	// a code issued with a challenge always needs the verifier, the first time too
	code, verifier := e.authCode(t, b, c, nil, false)
	if st, m := postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, verifier), c.ID, secret); st != 200 {
		t.Fatalf("right verifier: %d %v", st, m)
	}
}

func TestAudiencesMatchExactly(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials", "authorization_code", "refresh_token")
	c.Audience = []string{payAPI}
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	token := func(f url.Values) (int, map[string]any) {
		f.Set("grant_type", "client_credentials")
		return postForm(t, e.issuer+"/oauth2/token", f, c.ID, secret)
	}
	for _, f := range []url.Values{
		{"audience": {payAdminAPI}},
		{"resource": {payAdminAPI}},
		{"resource": {payAPI, payAdminAPI}},
		{"audience": {payAPI + "/"}},
		{"resource": {"https://api.example.test"}},
	} {
		if st, m := token(f); st != 400 || m["error"] != "invalid_target" {
			t.Errorf("client_credentials %v: %d %v (want 400 invalid_target)", f, st, m)
		}
	}
	// the authorization endpoint refuses it too, before any login
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	for _, p := range []string{"audience", "resource"} {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set(p, payAdminAPI)
		resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q2.Encode())
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_target" {
			t.Errorf("authorize with %s=%s: %d %s", p, payAdminAPI, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// the exact audience works
	if st, m := token(url.Values{"resource": {payAPI}}); st != 200 {
		t.Fatalf("exact resource: %d %v", st, m)
	}
}

func TestAccessTokensAlwaysCarryTheirAudience(t *testing.T) {
	e := start(t)
	const accountsAPI = "https://api.example.test/accounts"
	c := webClient("client_credentials", "authorization_code", "refresh_token")
	c.Audience = []string{payAPI, accountsAPI}
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	opaque := webClient("client_credentials")
	opaqueSecret := e.createClient(opaque)
	none := webClient("client_credentials")
	none.AccessTokenFormat = storage.TokenFormatJWT
	noneSecret := e.createClient(none)

	aud := func(t *testing.T, tok string) []any {
		t.Helper()
		m, _ := jwtClaims(t, tok)
		a, _ := m["aud"].([]any)
		if s, ok := m["aud"].(string); ok {
			a = []any{s}
		}
		return a
	}
	same := func(got []any, want ...string) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range want {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	cc := func(id, sec string, f url.Values) map[string]any {
		t.Helper()
		f.Set("grant_type", "client_credentials")
		st, m := postForm(t, e.issuer+"/oauth2/token", f, id, sec)
		if st != 200 {
			t.Fatalf("client_credentials %v: %d %v", f, st, m)
		}
		return m
	}
	// RFC 8707 resource, one or several, is honoured
	if a := aud(t, cc(c.ID, secret, url.Values{"resource": {accountsAPI}})["access_token"].(string)); !same(a, accountsAPI) {
		t.Errorf("resource=%s gave aud %v", accountsAPI, a)
	}
	if a := aud(t, cc(c.ID, secret, url.Values{"resource": {payAPI, accountsAPI}})["access_token"].(string)); !same(a, payAPI, accountsAPI) {
		t.Errorf("two resources gave aud %v", a)
	}
	// none requested: the registered audience, never []
	if a := aud(t, cc(c.ID, secret, url.Values{})["access_token"].(string)); !same(a, payAPI, accountsAPI) {
		t.Errorf("no resource gave aud %v", a)
	}
	// a client without a registered audience: the issuer (this server's own resources)
	if a := aud(t, cc(none.ID, noneSecret, url.Values{})["access_token"].(string)); !same(a, e.issuer) {
		t.Errorf("client without an audience got aud %v", a)
	}
	// opaque tokens introspect with the same aud
	tok := cc(opaque.ID, opaqueSecret, url.Values{})["access_token"].(string)
	if _, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok}}, opaque.ID, opaqueSecret); !same(asSlice(m["aud"]), e.issuer) {
		t.Errorf("introspection of an opaque token: aud %v", m["aud"])
	}

	// authorization code: resource at the authorization endpoint, narrowed at the token endpoint
	b := newBrowser(t)
	code, verifier := e.authCode(t, b, c, url.Values{"resource": {payAPI, accountsAPI}}, true)
	f := exchangeForm(code, verifier)
	f["resource"] = []string{accountsAPI}
	st, m := postForm(t, e.issuer+"/oauth2/token", f, c.ID, secret)
	if st != 200 {
		t.Fatalf("code exchange narrowed to one resource: %d %v", st, m)
	}
	if a := aud(t, m["access_token"].(string)); !same(a, accountsAPI) {
		t.Errorf("code exchange with resource=%s: aud %v", accountsAPI, a)
	}
	// the refresh token keeps the whole grant and narrows again per request
	rt := m["refresh_token"].(string)
	st, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {payAPI}}, c.ID, secret)
	if st != 200 {
		t.Fatalf("refresh narrowed to %s: %d %v", payAPI, st, m)
	}
	if a := aud(t, m["access_token"].(string)); !same(a, payAPI) {
		t.Errorf("refresh with resource=%s: aud %v", payAPI, a)
	}
	rt = m["refresh_token"].(string)
	st, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {payAdminAPI}}, c.ID, secret)
	if st != 400 || m["error"] != "invalid_target" {
		t.Errorf("refresh for a resource outside the grant: %d %v", st, m)
	}
	st, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if a := aud(t, m["access_token"].(string)); !same(a, payAPI, accountsAPI) {
		t.Errorf("refresh without resource: aud %v (want the whole grant)", a)
	}
	// a code granted without resource carries the registered audience
	code, verifier = e.authCode(t, b, c, nil, false)
	st, m = postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, verifier), c.ID, secret)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, m)
	}
	if a := aud(t, m["access_token"].(string)); !same(a, payAPI, accountsAPI) {
		t.Errorf("code without resource: aud %v", a)
	}
	// a code exchange cannot widen what was authorized
	code, verifier = e.authCode(t, b, c, url.Values{"resource": {payAPI}}, false)
	f = exchangeForm(code, verifier)
	f.Set("resource", accountsAPI)
	if st, m := postForm(t, e.issuer+"/oauth2/token", f, c.ID, secret); st != 400 || m["error"] != "invalid_target" {
		t.Errorf("code exchange for a resource not authorized: %d %v", st, m)
	}
}

func asSlice(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case string:
		return []any{x}
	}
	return nil
}

func TestRefreshCannotWidenTheScope(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	_, tok := e.codeFlowTokens(t, c, secret, true) // granted: openid offline_access
	refresh := func(rt, scope string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return postForm(t, e.issuer+"/oauth2/token", f, c.ID, secret)
	}
	// payments is registered for the client but was never granted
	if st, m := refresh(tok.RefreshToken, "openid offline_access payments"); st != 400 || m["error"] != "invalid_scope" {
		t.Fatalf("refresh asking for more scope: %d %v (want 400 invalid_scope)", st, m)
	}
	// the refused request rotated nothing: the token still works, and may narrow
	st, m := refresh(tok.RefreshToken, "offline_access")
	if st != 200 || m["scope"] != "offline_access" {
		t.Fatalf("narrowing refresh: %d %v", st, m)
	}
	if _, ok := m["id_token"]; ok {
		t.Errorf("narrowed away openid but got an ID token: %v", m)
	}
	if _, in := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {m["access_token"].(string)}}, c.ID, secret); in["scope"] != "offline_access" {
		t.Errorf("narrowed access token introspects with scope %v", in["scope"])
	}
	// the grant itself is unchanged: the next refresh gets it all back
	st, m = refresh(m["refresh_token"].(string), "")
	if st != 200 || !sameScope(m["scope"], "openid offline_access") || m["id_token"] == nil {
		t.Fatalf("refresh after narrowing: %d %v", st, m)
	}
}

func sameScope(v any, want string) bool {
	s, _ := v.(string)
	got := strings.Fields(s)
	w := strings.Fields(want)
	if len(got) != len(w) {
		return false
	}
	for _, x := range w {
		found := false
		for _, g := range got {
			found = found || g == x
		}
		if !found {
			return false
		}
	}
	return true
}

func TestParallelCodeRedemptionsHaveOneWinnerAndNoServerError(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	b := newBrowser(t)
	const n, rounds = 20, 15
	for round := 0; round < rounds; round++ {
		code, verifier := e.authCode(t, b, c, nil, round == 0)
		var wg sync.WaitGroup
		status := make([]int, n)
		bodies := make([]map[string]any, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status[i], bodies[i] = postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, verifier), c.ID, secret)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, st := range status {
			switch {
			case st == 200:
				wins++
			case st == 400 && bodies[i]["error"] == "invalid_grant":
			default:
				t.Errorf("round %d: %d %v", round, st, bodies[i])
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners: %v", round, wins, status)
		}
	}
}

func TestServerErrorsLogTheirCause(t *testing.T) {
	var proxy *cutProxy
	e := startWith(t, func(c *server.Config) {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy = newCutProxy(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		c.DatabaseURL = u.String()
	})
	c := webClient("client_credentials")
	secret := e.createClient(c)
	proxy.Cut()
	for _, p := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
		f := url.Values{"grant_type": {"client_credentials"}, "token": {"ory_at_x.y"}}
		if st, m := postForm(t, e.issuer+p, f, c.ID, secret); st < 500 {
			t.Fatalf("%s with the database down: %d %v", p, st, m)
		}
	}
	// every 5xx request line has an error line with its cause and request id
	errs := map[string]string{}
	var fives []string
	sc := bufio.NewScanner(strings.NewReader(e.Logs()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		id, _ := line["request_id"].(string)
		if line["msg"] == "request" {
			if st, _ := line["status"].(float64); st >= 500 {
				fives = append(fives, id)
			}
			continue
		}
		if line["level"] == "ERROR" && id != "" {
			cause, _ := line["error"].(string)
			errs[id] = cause
		}
	}
	if len(fives) < 3 {
		t.Fatalf("only %d 5xx request lines:\n%s", len(fives), e.Logs())
	}
	for _, id := range fives {
		cause, ok := errs[id]
		if !ok || cause == "" {
			t.Errorf("5xx request %s has no error line with a cause:\n%s", id, e.Logs())
		}
	}
}

func TestConcurrentRefreshWithoutGraceRevokesTheFamily(t *testing.T) {
	e := start(t) // default grace: 0
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	for round := 0; round < 6; round++ {
		_, tok := e.codeFlowTokens(t, c, secret, round == 0)
		codes, bodies := e.refreshInParallel(t, c, secret, tok.RefreshToken, 10)
		wins := 0
		var winner string
		for i, code := range codes {
			switch {
			case code == 200:
				wins++
				winner, _ = bodies[i]["refresh_token"].(string)
			case code == 400 && bodies[i]["error"] == "invalid_grant":
			default:
				t.Errorf("round %d: %d %v", round, code, bodies[i])
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners of %v", round, wins, codes)
		}
		// two presentations of one refresh token: the whole family goes (RFC 9700 §4.14.2)
		if code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winner}}, c.ID, secret); code != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("round %d: the winner's refresh token survived a concurrent reuse: %d %v", round, code, m)
		}
	}
}

func TestRefreshReuseRevokesTheFamilyByDefault(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	_, tok := e.codeFlowTokens(t, c, secret, true)
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	}
	// an attacker refreshes first ...
	code, stolen := refresh(tok.RefreshToken)
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, stolen)
	}
	// ... the real client retries at once: reuse, the attacker's tokens die too
	if code, m := refresh(tok.RefreshToken); code != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", code, m)
	}
	if code, m := refresh(stolen["refresh_token"].(string)); code != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("the newest refresh token survived reuse: %d %v", code, m)
	}
	if _, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {stolen["access_token"].(string)}}, c.ID, secret); m["active"] != false {
		t.Fatalf("the newest access token survived reuse: %v", m)
	}
}

// TestRefreshRetryWithinGraceIsNotReuse: with --refresh-token-reuse-grace,
// a refresh token presented again within the grace after its rotation is
// invalid_grant without revoking anything (a client retrying a refresh
// whose answer it lost), up to the last moment of the grace; presented
// after the grace it is reuse and revokes the whole family, the newest
// refresh token included. The server's clock is settable and stands still
// (servertest.Clock): the rotation happened at the database's clock between
// two readings of the real one, so setting the server's clock relative to
// those readings is inside or outside the grace whatever the machine's
// speed. Nothing here can skip.
func TestRefreshRetryWithinGraceIsNotReuse(t *testing.T) {
	const grace = time.Minute
	clock := servertest.NewClock(time.Now())
	e := startWith(t, func(c *server.Config) {
		c.Authz.RefreshRotationGrace = grace
		c.Now = clock.Now
	})
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	_, tok := e.codeFlowTokens(t, c, secret, true)
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	}
	familyActive := func(rt string) bool {
		_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {rt}}, c.ID, secret)
		return m["active"] == true
	}
	before := time.Now() // the rotation is stamped after this...
	code, next := refresh(tok.RefreshToken)
	after := time.Now() // ...and before this
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, next)
	}
	newest := next["refresh_token"].(string)
	// retries at the start of the grace and one second before its end
	// (the rotation was no earlier than before): no reuse
	for _, at := range []time.Time{after, before.Add(grace - time.Second)} {
		clock.Set(at)
		if code, m := refresh(tok.RefreshToken); code != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("retry %v after the rotation began: %d %v", at.Sub(before), code, m)
		}
		if !familyActive(newest) {
			t.Fatalf("a retry %v after the rotation began, within the %v grace, revoked the family", at.Sub(before), grace)
		}
	}
	// one second after the grace (the rotation was no later than after):
	// reuse, the whole family is revoked
	clock.Set(after.Add(grace + time.Second))
	if code, m := refresh(tok.RefreshToken); code != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reuse after the grace: %d %v", code, m)
	}
	if familyActive(newest) {
		t.Fatal("reuse after the grace left the newest refresh token active")
	}
	if code, m := refresh(newest); code != 400 {
		t.Fatalf("the family survived reuse after the grace: %d %v", code, m)
	}
}

func TestTokenNumericClaimsAreIntegers(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("authorization_code", "refresh_token")
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	b := newBrowser(t)
	code, verifier := e.authCode(t, b, c, url.Values{"scope": {"openid profile offline_access"}}, true)
	st, m := postForm(t, e.issuer+"/oauth2/token", exchangeForm(code, verifier), c.ID, secret)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, m)
	}
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	type numeric struct {
		UpdatedAt int64 `json:"updated_at"`
		AuthTime  int64 `json:"auth_time"`
		IssuedAt  int64 `json:"iat"`
		Expiry    int64 `json:"exp"`
	}
	check := func(what, idToken string) {
		t.Helper()
		idt, err := p.Verifier(&oidc.Config{ClientID: c.ID}).Verify(ctx, idToken)
		if err != nil {
			t.Fatalf("%s: verify: %v", what, err)
		}
		var n numeric
		if err := idt.Claims(&n); err != nil {
			t.Fatalf("%s: go-oidc cannot decode the numeric claims: %v", what, err)
		}
		if n.UpdatedAt == 0 || n.AuthTime == 0 || n.IssuedAt == 0 || n.Expiry == 0 {
			t.Errorf("%s: numeric claims missing: %+v", what, n)
		}
		if _, raw := jwtClaims(t, idToken); strings.Contains(raw, "e+") {
			t.Errorf("%s: a number in exponent form: %s", what, raw)
		}
	}
	check("ID token", m["id_token"].(string))
	if _, raw := jwtClaims(t, m["access_token"].(string)); strings.Contains(raw, "e+") {
		t.Errorf("JWT access token: a number in exponent form: %s", raw)
	}
	// after a refresh the session comes back from the database
	st, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, c.ID, secret)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, m)
	}
	check("refreshed ID token", m["id_token"].(string))
	at, raw := jwtClaims(t, m["access_token"].(string))
	if strings.Contains(raw, "e+") || at["auth_time"] == nil {
		t.Errorf("refreshed JWT access token: %s", raw)
	}
}
