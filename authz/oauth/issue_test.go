package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
)

// flowFixture is a provider with user u1, client c1 and a consent of u1 to
// c1 for "openid profile".
type flowFixture struct {
	p      *Authorizer
	store  storage.Store
	client *authz.Client
}

func newFlowFixture(t *testing.T) *flowFixture {
	t.Helper()
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	authztest.SeedConsentedUser(t, store)
	c, err := p.clients.Get(t.Context(), "c1")
	must(t, err)
	return &flowFixture{p: p, store: store, client: c}
}

func TestCheckAuthorizePolicy(t *testing.T) {
	f := newFlowFixture(t)
	clientWith := func(mutate func(c *storage.Client)) *authz.Client {
		sc := testClient("c1")
		mutate(sc)
		return mustClient(t, sc)
	}
	confidential := f.client
	public := clientWith(func(c *storage.Client) {
		c.Public = true
		c.RedirectURIs = []string{"http://127.0.0.1/callback", "com.example.app:/cb"}
	})
	par := clientWith(func(c *storage.Client) { c.RequirePAR = true })
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name   string
		client fosite.Client
		form   url.Values
		pushed bool
		err    error // nil: allowed
		hint   string
	}{
		{"ok/confidential-exact-redirect", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb2"}}, false, nil, ""},
		{"ok/confidential-no-redirect-param", confidential, url.Values{"response_type": {"code"}}, false, nil, ""},
		{"ok/confidential-pkce-optional", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb"}}, false, nil, ""},
		{"ok/confidential-pkce-s256", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"fail/confidential-redirect-extra-path", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb/evil"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"fail/confidential-redirect-extra-query", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb?x=1"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"fail/confidential-loopback-port", clientWith(func(c *storage.Client) { c.RedirectURIs = []string{"http://127.0.0.1/cb"} }),
			url.Values{"response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:8080/cb"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"ok/public-loopback-port", public, url.Values{"response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:51234/callback"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"ok/public-s256", public, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"fail/public-without-pkce", public, url.Values{"response_type": {"code"}}, false, fosite.ErrInvalidRequest, "PKCE"},
		{"fail/public-hybrid-without-pkce", public, url.Values{"response_type": {"code id_token"}}, false, fosite.ErrInvalidRequest, "PKCE"},
		{"fail/pkce-plain", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}, false, fosite.ErrInvalidRequest, "S256"},
		{"fail/pkce-plain-public", public, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}, false, fosite.ErrInvalidRequest, "S256"},
		{"fail/pkce-challenge-without-method", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}}, false, fosite.ErrInvalidRequest, "code_challenge_method"},
		{"fail/require-par-not-pushed", par, url.Values{"response_type": {"code"}}, false, fosite.ErrInvalidRequest, "pushed"},
		{"fail/require-par-foreign-request-uri", par, url.Values{"response_type": {"code"}, "request_uri": {"https://evil.example/req"}}, false, fosite.ErrInvalidRequest, "pushed"},
		{"ok/require-par-at-par-endpoint", par, url.Values{"response_type": {"code"}}, true, nil, ""},
		{"ok/require-par-with-request-uri", par, url.Values{"response_type": {"code"}, "request_uri": {"urn:ietf:params:oauth:request_uri:abc"}}, false, nil, ""},
		{"fail/foreign-client-type", &fosite.DefaultClient{ID: "x"}, url.Values{"response_type": {"code"}}, false, fosite.ErrServerError, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.p.CheckAuthorizePolicy(t.Context(), authorizeRequest(tc.client, tc.form), tc.pushed)
			if tc.err == nil {
				must(t, err)
				return
			}
			wantErr(t, err, tc.err)
			if tc.err == ErrRedirectNotRegistered {
				wantErr(t, err, fosite.ErrInvalidRequest)
			} else if errors.Is(err, ErrRedirectNotRegistered) {
				t.Fatal("only redirect mismatches may suppress the redirect")
			}
			if rfc := fosite.ErrorToRFC6749Error(err); !strings.Contains(rfc.HintField, tc.hint) {
				t.Fatalf("hint %q does not mention %q", rfc.HintField, tc.hint)
			}
		})
	}
}

func TestUserClaims(t *testing.T) {
	u := &storage.User{ID: "u1", Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice A", GivenName: "Alice",
		PhoneNumber: "+14155550100", PhoneNumberVerified: true, UpdatedAt: testNow}
	tests := []struct {
		name   string
		scopes fosite.Arguments
		want   []string
	}{
		{"ok/openid-only", fosite.Arguments{"openid"}, nil},
		{"ok/profile", fosite.Arguments{"openid", "profile"}, []string{"given_name", "name", "preferred_username", "updated_at"}},
		{"ok/email", fosite.Arguments{"openid", "email"}, []string{"email", "email_verified"}},
		{"ok/both", fosite.Arguments{"profile", "email"}, []string{"email", "email_verified", "given_name", "name", "preferred_username", "updated_at"}},
		{"ok/phone", fosite.Arguments{"openid", "phone"}, []string{"phone_number", "phone_number_verified"}},
		{"ok/profile-email-without-phone", fosite.Arguments{"openid", "profile", "email"}, []string{"email", "email_verified", "given_name", "name", "preferred_username", "updated_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := UserClaims(u, tc.scopes)
			var keys []string
			for k := range c {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("claims %v, want keys %v", c, tc.want)
			}
		})
	}
}

// TestWriteAuthorizeErrorDoesNotRedirectUnregistered: fosite accepts a
// loopback redirect URI on any port (RFC 8252 §7.3); for a confidential
// client Strongroom refuses it and must not send the error there either.
func TestWriteAuthorizeErrorDoesNotRedirectUnregistered(t *testing.T) {
	f := newFlowFixture(t)
	sc := testClient("c1")
	sc.RedirectURIs = []string{"http://127.0.0.1/cb"}
	client := mustClient(t, sc)
	newAR := func(redirect string) *fosite.AuthorizeRequest {
		ar := authorizeRequest(client, url.Values{"response_type": {"code"}, "redirect_uri": {redirect}})
		ar.RedirectURI, _ = url.Parse(redirect)
		ar.State = "st"
		return ar
	}
	other := newAR("http://127.0.0.1:8080/cb")
	if !other.IsRedirectURIValid() {
		t.Fatal("test setup: fosite should accept the loopback port")
	}
	policyErr := f.p.CheckAuthorizePolicy(t.Context(), other, false)
	for _, tc := range []struct {
		name     string
		ar       *fosite.AuthorizeRequest
		err      error
		redirect bool
	}{
		{"fail/unregistered-loopback-port-rendered", other, policyErr, false},
		{"ok/registered-redirected", newAR("http://127.0.0.1/cb"), fosite.ErrAccessDenied, true},
		// issue 7 item 14: every error, not only the policy's, stays off the unregistered port
		{"fail/loopback-port-other-error-rendered", other, fosite.ErrInvalidScope, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error to write")
			}
			resp, err := f.p.AuthorizeError(t.Context(), tc.ar, tc.err)
			loc, status := "", 0
			if resp != nil {
				loc = resp.RedirectURL
			}
			var page *authz.UnredirectableError
			if errors.As(err, &page) {
				status = page.Status
			}
			if tc.redirect != (loc != "") {
				t.Fatalf("Location = %q (status %d), want redirect: %v", loc, status, tc.redirect)
			}
			if tc.redirect && (!strings.HasPrefix(loc, tc.ar.RedirectURI.String()) || !strings.Contains(loc, "state=st") || !strings.Contains(loc, "iss=")) {
				t.Fatalf("redirect %q: wrong target or lacks state or iss", loc)
			}
			if !tc.redirect && status != http.StatusBadRequest {
				t.Fatalf("rendered with status %d, want 400", status)
			}
		})
	}
}

// A login completed in the same second as its authorization request must not
// look older than the request: fosite refuses prompt=login when auth_time is
// before requested_at, and auth_time has whole seconds.
func TestSessionTimesAreWholeSeconds(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	c, err := authz.NewClient(testClient("c1"))
	must(t, err)
	second := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	requested := second.Add(700 * time.Millisecond)          // the authorization request
	bs := &storage.BrowserSession{ID: "s", AuthTime: second} // login at .900, stored truncated
	s := p.newUserSession(c, &storage.User{ID: "u1", Username: "carol"}, bs, requested, fosite.Arguments{"openid"})
	claims := s.IDTokenClaims()
	if claims.AuthTime.Before(claims.RequestedAt) {
		t.Fatalf("auth_time %v before requested_at %v: prompt=login would fail", claims.AuthTime, claims.RequestedAt)
	}
	if !claims.RequestedAt.Equal(second) {
		t.Fatalf("requested_at %v, want %v", claims.RequestedAt, second)
	}
}
