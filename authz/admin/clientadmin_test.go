package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var adminNow = time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)

var operator = admin.Actor{Name: "operator:test", Source: "cli"}

type adminFixture struct {
	store  *memory.Store
	clock  *fakeClock
	hasher *authz.SecretHasher
	admin  *admin.ClientAdmin
	cache  *authz.ClientCache
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	clock := &fakeClock{t: adminNow}
	store := memory.New(memory.WithClock(clock.Now))
	hasher, err := authz.NewSecretHasher([]byte("strongroom-admin-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return &adminFixture{
		store: store, clock: clock, hasher: hasher,
		admin: admin.NewClientAdmin(store, hasher, admin.ClientAdminOptions{Now: clock.Now}),
		// TTL 0: every lookup reads the store, so the test sees each change.
		cache: authz.NewClientCache(store, 0, clock.Now),
	}
}

// partner is a valid confidential client_credentials registration.
func partner() registration.ClientSpec {
	return registration.ClientSpec{
		ClientName: "Partner", GrantTypes: []string{"client_credentials"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Scope: "payments",
	}
}

// webApp is a valid confidential authorization-code registration.
func webApp() registration.ClientSpec {
	return registration.ClientSpec{
		ClientName: "Web", GrantTypes: []string{"authorization_code", "refresh_token"},
		RedirectURIs: []string{"https://app.example.com/cb"}, Scope: "openid profile offline_access",
		TokenEndpointAuthMethod: storage.AuthMethodSecretPost,
	}
}

// authenticates reports whether secret authenticates the client now, the
// way fosite checks it: the current hash, then the rotated ones.
func (f *adminFixture) authenticates(t *testing.T, id, secret string) bool {
	t.Helper()
	c, err := f.cache.Get(t.Context(), id)
	if err != nil {
		return false
	}
	for _, h := range append([][]byte{c.GetHashedSecret()}, c.GetRotatedHashes()...) {
		if f.hasher.Compare(t.Context(), h, []byte(secret)) == nil {
			return true
		}
	}
	return false
}

func (f *adminFixture) create(t *testing.T, spec registration.ClientSpec) (*registration.ClientInfo, string) {
	t.Helper()
	info, issued, err := f.admin.Create(t.Context(), operator, spec, admin.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if issued == nil {
		return info, ""
	}
	return info, issued.ClientSecret
}

func (f *adminFixture) audit(t *testing.T) []storage.AuditEvent {
	t.Helper()
	events, err := f.store.ListAudit(t.Context(), storage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func (f *adminFixture) snapshot(t *testing.T) string {
	t.Helper()
	clients, err := f.store.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(clients)
	return string(b)
}

func TestClientSpecValidation(t *testing.T) {
	jwks := json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig","kid":"k1"}]}`)
	privateJWKS := json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]}`)
	mod := func(base registration.ClientSpec, fn func(s *registration.ClientSpec)) registration.ClientSpec {
		fn(&base)
		return base
	}
	for name, tc := range map[string]struct {
		spec registration.ClientSpec
		msg  string // empty: valid
	}{
		"ok/partner": {partner(), ""},
		"ok/web":     {webApp(), ""},
		"ok/native-loopback": {registration.ClientSpec{ClientName: "CLI", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"http://127.0.0.1:8400/cb", "http://[::1]/cb", "http://localhost/cb"}}, ""},
		"ok/private-key-jwt": {mod(partner(), func(s *registration.ClientSpec) { s.TokenEndpointAuthMethod = "private_key_jwt"; s.JWKS = jwks }), ""},
		"ok/full-metadata": {mod(webApp(), func(s *registration.ClientSpec) {
			s.Contacts = []string{"ops@example.com"}
			s.LogoURI, s.PolicyURI, s.TosURI, s.ClientURI = "https://example.com/logo.png", "https://example.com/p", "https://example.com/t", "https://example.com"
			s.PostLogoutRedirectURIs = []string{"https://app.example.com/bye"}
			s.BackchannelLogoutURI = "https://app.example.com/bcl"
			s.IDTokenSignedResponseAlg = "ES256"
			s.ResponseTypes = []string{"code", "code id_token"}
		}), ""},
		"fail/redirect-fragment":                   {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"https://app.example.com/cb#x"} }), "must not contain a fragment"},
		"fail/redirect-wildcard":                   {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"https://*.example.com/cb"} }), "must not contain a wildcard"},
		"fail/redirect-http":                       {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"http://app.example.com/cb"} }), "must use https"},
		"fail/redirect-http-loopback-confidential": {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"http://127.0.0.1/cb"} }), "--allow-insecure-redirects"},
		"fail/redirect-http-public-remote": {registration.ClientSpec{ClientName: "CLI", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"http://app.example.com/cb"}}, "http is allowed only on 127.0.0.1"},
		"fail/redirect-relative":    {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"/cb"} }), "must be an absolute URL"},
		"fail/redirect-userinfo":    {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"https://u:p@app.example.com/cb"} }), "user information"},
		"fail/redirect-missing":     {mod(webApp(), func(s *registration.ClientSpec) { s.RedirectURIs = nil }), "requires at least one redirect URI"},
		"fail/redirect-for-cc":      {mod(partner(), func(s *registration.ClientSpec) { s.RedirectURIs = []string{"https://a.example.com/cb"} }), "used only with grant type authorization_code"},
		"fail/post-logout-fragment": {mod(webApp(), func(s *registration.ClientSpec) { s.PostLogoutRedirectURIs = []string{"https://a.example.com/#x"} }), "post_logout_redirect_uris"},
		"fail/grant-password":       {mod(partner(), func(s *registration.ClientSpec) { s.GrantTypes = []string{"password"} }), `unknown grant type "password"`},
		"fail/grant-implicit":       {mod(partner(), func(s *registration.ClientSpec) { s.GrantTypes = []string{"implicit"} }), `unknown grant type "implicit"`},
		"fail/grant-none":           {mod(partner(), func(s *registration.ClientSpec) { s.GrantTypes = nil }), "grant_types: at least one is required"},
		"fail/refresh-alone":        {mod(partner(), func(s *registration.ClientSpec) { s.GrantTypes = []string{"refresh_token"} }), "refresh_token requires grant type authorization_code"},
		"fail/public-client-creds":  {mod(partner(), func(s *registration.ClientSpec) { s.TokenEndpointAuthMethod = "none" }), "client_credentials requires a confidential client"},
		"fail/auth-method":          {mod(partner(), func(s *registration.ClientSpec) { s.TokenEndpointAuthMethod = "attestation_client_auth" }), `unknown auth method "attestation_client_auth"`},
		"fail/pkjwt-no-keys":        {mod(partner(), func(s *registration.ClientSpec) { s.TokenEndpointAuthMethod = "private_key_jwt" }), "requires jwks_uri or jwks"},
		"fail/pkjwt-both": {mod(partner(), func(s *registration.ClientSpec) {
			s.TokenEndpointAuthMethod = "private_key_jwt"
			s.JWKS = jwks
			s.JWKSURI = "https://k.example.com"
		}), "mutually exclusive"},
		"fail/jwks-private": {mod(partner(), func(s *registration.ClientSpec) { s.TokenEndpointAuthMethod = "private_key_jwt"; s.JWKS = privateJWKS }), "private or symmetric key"},
		"fail/jwks-uri-http": {mod(partner(), func(s *registration.ClientSpec) {
			s.TokenEndpointAuthMethod = "private_key_jwt"
			s.JWKSURI = "http://k.example.com"
		}), "must use https"},
		"fail/jwks-for-secret-client":  {mod(partner(), func(s *registration.ClientSpec) { s.JWKS = jwks }), "used only with token_endpoint_auth_method private_key_jwt"},
		"fail/scope-quote":             {mod(partner(), func(s *registration.ClientSpec) { s.Scope = `a "b"` }), "not a valid scope token"},
		"fail/response-type-token":     {mod(webApp(), func(s *registration.ClientSpec) { s.ResponseTypes = []string{"token"} }), `unknown response type "token"`},
		"fail/hybrid-without-openid":   {mod(webApp(), func(s *registration.ClientSpec) { s.ResponseTypes = []string{"code id_token"}; s.Scope = "profile" }), "requires the openid scope"},
		"fail/id-token-alg":            {mod(partner(), func(s *registration.ClientSpec) { s.IDTokenSignedResponseAlg = "HS256" }), `unsupported algorithm "HS256"`},
		"fail/token-format":            {mod(partner(), func(s *registration.ClientSpec) { s.AccessTokenFormat = "paseto" }), `unknown format "paseto"`},
		"fail/empty-name":              {mod(partner(), func(s *registration.ClientSpec) { s.ClientName = " " }), "client_name must not be empty"},
		"fail/contact":                 {mod(partner(), func(s *registration.ClientSpec) { s.Contacts = []string{"not an address"} }), "contacts"},
		"fail/logo-http":               {mod(partner(), func(s *registration.ClientSpec) { s.LogoURI = "http://example.com/logo.png" }), "logo_uri"},
		"fail/tos-fragment":            {mod(partner(), func(s *registration.ClientSpec) { s.TosURI = "https://example.com/tos#top" }), "tos_uri"},
		"fail/policy-relative":         {mod(partner(), func(s *registration.ClientSpec) { s.PolicyURI = "/policy" }), "policy_uri"},
		"fail/backchannel-http":        {mod(webApp(), func(s *registration.ClientSpec) { s.BackchannelLogoutURI = "http://app.example.com/bcl" }), "backchannel_logout_uri"},
		"ok/admin-scope-operator":      {mod(partner(), func(s *registration.ClientSpec) { s.Scope = authz.AdminScope }), ""},
		"ok/introspecting-rs":          {mod(partner(), func(s *registration.ClientSpec) { s.Introspect = true }), ""},
		"fail/admin-scope-web-app":     {mod(webApp(), func(s *registration.ClientSpec) { s.Scope = "openid " + authz.AdminScope }), "remove grant type authorization_code"},
		"fail/admin-scope-and-refresh": {mod(webApp(), func(s *registration.ClientSpec) { s.Scope = authz.AdminScope }), "remove grant type refresh_token"},
		"fail/admin-scope-public": {registration.ClientSpec{ClientName: "CLI", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"http://127.0.0.1/cb"}, Scope: authz.AdminScope}, "strongroom:admin requires a confidential client"},
		"fail/admin-scope-case-variant": {mod(partner(), func(s *registration.ClientSpec) { s.Scope = "Strongroom:admin" }), "differs from strongroom:admin only in case"},
		"fail/openid-case-variant":      {mod(webApp(), func(s *registration.ClientSpec) { s.Scope = "OpenID profile" }), `"OpenID" differs from openid only in case`},
		"fail/introspect-public": {registration.ClientSpec{ClientName: "CLI", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"http://127.0.0.1/cb"}, Introspect: true}, "introspect requires a confidential client"},
		"fail/client-id-on-create":     {mod(partner(), func(s *registration.ClientSpec) { s.ClientID = "mine" }), "client_id is generated"},
		"fail/client-secret-on-create": {mod(partner(), func(s *registration.ClientSpec) { s.ClientSecret = strings.Repeat("s", 40) }), "client_secret is generated"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newAdminFixture(t)
			info, issued, err := f.admin.Create(t.Context(), operator, tc.spec, admin.CreateOptions{})
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("valid spec refused: %v", err)
				}
				if info.ClientID == "" || (issued == nil) != (tc.spec.TokenEndpointAuthMethod != "client_secret_basic" && tc.spec.TokenEndpointAuthMethod != "client_secret_post") {
					t.Fatalf("info %+v issued %+v", info, issued)
				}
				return
			}
			var ve *registration.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want a validation error containing %q", err, tc.msg)
			}
			if n := len(f.audit(t)); n != 0 {
				t.Errorf("%d audit events for a refused create", n)
			}
			if s := f.snapshot(t); s != "null" {
				t.Errorf("clients stored: %s", s)
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	f := newAdminFixture(t)
	_, _, err := f.admin.Create(t.Context(), operator, registration.ClientSpec{
		GrantTypes: []string{"password"}, TokenEndpointAuthMethod: "magic", Scope: `"`,
	}, admin.CreateOptions{})
	var ve *registration.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) < 4 {
		t.Fatalf("err = %v", err)
	}
}

func TestRotateSecretWithGrace(t *testing.T) {
	f := newAdminFixture(t)
	info, oldSecret := f.create(t, partner())
	if !f.authenticates(t, info.ClientID, oldSecret) {
		t.Fatal("fresh secret does not authenticate")
	}

	f.clock.Add(time.Hour)
	issued, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if issued.ClientSecret == "" || issued.ClientSecret == oldSecret || issued.SecretID == "" ||
		issued.PreviousSecretID != info.Secrets[0].ID || !issued.PreviousExpiresAt.Equal(adminNow.Add(25*time.Hour)) {
		t.Fatalf("issued %+v", issued)
	}

	// During the grace period both secrets work, and the list flags the old one.
	f.clock.Add(23 * time.Hour)
	if !f.authenticates(t, info.ClientID, oldSecret) || !f.authenticates(t, info.ClientID, issued.ClientSecret) {
		t.Fatal("during the grace both secrets must authenticate")
	}
	got, err := f.admin.Get(t.Context(), info.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SecretsExpiringSoon || len(got.Secrets) != 2 || got.Secrets[0].State != registration.SecretExpiring || got.Secrets[1].State != registration.SecretActive {
		t.Fatalf("during grace: %+v", got)
	}

	// After it, only the new one.
	f.clock.Add(time.Hour)
	if f.authenticates(t, info.ClientID, oldSecret) {
		t.Fatal("the old secret still authenticates after the grace")
	}
	if !f.authenticates(t, info.ClientID, issued.ClientSecret) {
		t.Fatal("the new secret does not authenticate")
	}
	got, _ = f.admin.Get(t.Context(), info.ClientID)
	if got.SecretsExpiringSoon || got.Secrets[0].State != registration.SecretExpired {
		t.Fatalf("after grace: %+v", got)
	}

	// The audit event names both secrets by id and never holds a secret.
	events := f.audit(t)
	if len(events) != 2 || events[0].Action != admin.ActionClientSecretRotate || events[0].Target != info.ClientID ||
		events[0].Actor != "operator:test" || events[0].Details["source"] != "cli" ||
		events[0].Details["secret_id"] != issued.SecretID || events[0].Details["previous_secret_id"] != issued.PreviousSecretID {
		t.Fatalf("audit %+v", events)
	}
	raw, _ := json.Marshal(events)
	for _, s := range []string{oldSecret, issued.ClientSecret} {
		if strings.Contains(string(raw), s) {
			t.Fatal("a secret is in the audit trail")
		}
	}

	// A second rotation drops the expired secret: still two at most.
	again, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.admin.Get(t.Context(), info.ClientID)
	if len(got.Secrets) != 2 || got.Secrets[0].ID != issued.SecretID || got.Secrets[1].ID != again.SecretID {
		t.Fatalf("after second rotation: %+v", got.Secrets)
	}
}

func TestRotateSecretRules(t *testing.T) {
	t.Run("fail/third-live-secret", func(t *testing.T) {
		f := newAdminFixture(t)
		info, _ := f.create(t, partner())
		if _, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: time.Hour}); err != nil {
			t.Fatal(err)
		}
		before := f.snapshot(t)
		_, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: time.Hour})
		if !errors.Is(err, admin.ErrTooManySecrets) {
			t.Fatalf("err = %v", err)
		}
		if f.snapshot(t) != before || len(f.audit(t)) != 2 {
			t.Fatal("a refused rotation changed something")
		}
	})
	t.Run("ok/zero-grace-ends-old-now", func(t *testing.T) {
		f := newAdminFixture(t)
		info, old := f.create(t, partner())
		issued, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.authenticates(t, info.ClientID, old) || !f.authenticates(t, info.ClientID, issued.ClientSecret) {
			t.Fatal("grace 0 must end the old secret at once")
		}
	})
	t.Run("ok/new-secret-expiry", func(t *testing.T) {
		f := newAdminFixture(t)
		info, _ := f.create(t, partner())
		issued, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: time.Hour, ExpiresIn: 90 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if issued.ExpiresAt == nil || !issued.ExpiresAt.Equal(adminNow.Add(90*24*time.Hour)) {
			t.Fatalf("expiry %v", issued.ExpiresAt)
		}
		f.clock.Add(89 * 24 * time.Hour)
		got, _ := f.admin.Get(t.Context(), info.ClientID)
		if !got.SecretsExpiringSoon {
			t.Fatal("a secret ending in a day is not flagged")
		}
		f.clock.Add(24 * time.Hour)
		if f.authenticates(t, info.ClientID, issued.ClientSecret) {
			t.Fatal("an expired secret authenticates")
		}
	})
	for name, tc := range map[string]struct {
		spec registration.ClientSpec
		opts admin.RotateOptions
		want error
	}{
		"fail/negative-grace":  {partner(), admin.RotateOptions{Grace: -time.Second}, nil},
		"fail/grace-too-long":  {partner(), admin.RotateOptions{Grace: 365 * 24 * time.Hour}, nil},
		"fail/expiry-in-grace": {partner(), admin.RotateOptions{Grace: time.Hour, ExpiresIn: time.Minute}, nil},
		"fail/public-client": {registration.ClientSpec{ClientName: "CLI", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "none",
			RedirectURIs: []string{"http://127.0.0.1/cb"}}, admin.RotateOptions{Grace: time.Hour}, admin.ErrNoSecretAuth},
	} {
		t.Run(name, func(t *testing.T) {
			f := newAdminFixture(t)
			info, _ := f.create(t, tc.spec)
			before := f.snapshot(t)
			_, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, tc.opts)
			var ve *registration.ValidationError
			if tc.want != nil && !errors.Is(err, tc.want) || tc.want == nil && !errors.As(err, &ve) {
				t.Fatalf("err = %v", err)
			}
			if f.snapshot(t) != before || len(f.audit(t)) != 1 {
				t.Fatal("a refused rotation changed something")
			}
		})
	}
	t.Run("fail/unknown-client", func(t *testing.T) {
		f := newAdminFixture(t)
		_, err := f.admin.RotateSecret(t.Context(), operator, "nope", admin.RotateOptions{Grace: time.Hour})
		if !errors.Is(err, storage.ErrNotFound) || err.Error() != `client "nope" not found` {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRevokeSecret(t *testing.T) {
	f := newAdminFixture(t)
	info, old := f.create(t, partner())
	issued, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	before := f.snapshot(t)
	if _, err := f.admin.RevokeSecret(t.Context(), operator, info.ClientID, "000000000000"); !errors.Is(err, admin.ErrSecretNotFound) {
		t.Fatalf("unknown secret id: %v", err)
	}
	if f.snapshot(t) != before {
		t.Fatal("a refused revoke changed the client")
	}
	got, err := f.admin.RevokeSecret(t.Context(), operator, info.ClientID, issued.PreviousSecretID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != 1 || got.Secrets[0].ID != issued.SecretID {
		t.Fatalf("after revoke: %+v", got.Secrets)
	}
	if f.authenticates(t, info.ClientID, old) || !f.authenticates(t, info.ClientID, issued.ClientSecret) {
		t.Fatal("revoke must end the old secret now and keep the new one")
	}
	if ev := f.audit(t)[0]; ev.Action != admin.ActionClientSecretRevoke || ev.Details["secret_id"] != issued.PreviousSecretID {
		t.Fatalf("audit %+v", ev)
	}
}

func TestDisabledClientCannotAuthenticate(t *testing.T) {
	f := newAdminFixture(t)
	info, secret := f.create(t, partner())
	if _, err := f.admin.SetDisabled(t.Context(), operator, info.ClientID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.Get(t.Context(), info.ClientID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("disabled client loads: %v", err)
	}
	if f.authenticates(t, info.ClientID, secret) {
		t.Fatal("a disabled client authenticates")
	}
	got, err := f.admin.SetDisabled(t.Context(), operator, info.ClientID, false)
	if err != nil || got.Disabled {
		t.Fatalf("enable: %v %+v", err, got)
	}
	if !f.authenticates(t, info.ClientID, secret) {
		t.Fatal("an enabled client does not authenticate")
	}
	events := f.audit(t)
	if events[0].Action != admin.ActionClientEnable || events[1].Action != admin.ActionClientDisable {
		t.Fatalf("audit %+v", events)
	}
}

func TestUpdateClient(t *testing.T) {
	f := newAdminFixture(t)
	info, secret := f.create(t, webApp())
	f.clock.Add(time.Minute)
	got, err := f.admin.Update(t.Context(), operator, info.ClientID, []byte(`{"client_name":"Renamed","redirect_uris":["https://new.example.com/cb"],"contacts":["ops@example.com"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientName != "Renamed" || strings.Join(got.RedirectURIs, " ") != "https://new.example.com/cb" ||
		got.Scope != "openid profile offline_access" || !got.UpdatedAt.Equal(adminNow.Add(time.Minute)) || len(got.Secrets) != 1 {
		t.Fatalf("updated %+v", got)
	}
	if !f.authenticates(t, info.ClientID, secret) {
		t.Fatal("update lost the secret")
	}
	if ev := f.audit(t)[0]; ev.Action != admin.ActionClientUpdate || ev.Details["fields"] != "client_name,contacts,redirect_uris" {
		t.Fatalf("audit %+v", ev)
	}

	before, events := f.snapshot(t), len(f.audit(t))
	for name, tc := range map[string]struct{ patch, msg string }{
		"fail/fragment":       {`{"redirect_uris":["https://a.example.com/cb#frag"]}`, "fragment"},
		"fail/wildcard":       {`{"redirect_uris":["https://*.example.com/cb"]}`, "wildcard"},
		"fail/unknown-field":  {`{"redirect_uri":"https://a.example.com"}`, `unknown field "redirect_uri"`},
		"fail/not-object":     {`[1]`, "JSON object"},
		"fail/client-id":      {`{"client_id":"x"}`, "client_id cannot be updated"},
		"fail/disabled":       {`{"disabled":true}`, "use disable or enable"},
		"fail/secret":         {`{"client_secret":"x"}`, "client_secret cannot be updated"},
		"fail/wrong-type":     {`{"grant_types":"client_credentials"}`, "invalid JSON"},
		"fail/bad-grant-type": {`{"grant_types":["password"]}`, `unknown grant type "password"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.admin.Update(t.Context(), operator, info.ClientID, []byte(tc.patch))
			var ve *registration.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
			if f.snapshot(t) != before || len(f.audit(t)) != events {
				t.Fatal("a refused update changed something")
			}
		})
	}
	if _, err := f.admin.Update(t.Context(), operator, "nope", []byte(`{}`)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}

	// Moving to private_key_jwt drops the secrets.
	got, err = f.admin.Update(t.Context(), operator, info.ClientID, []byte(`{"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example.com/jwks"}`))
	if err != nil || len(got.Secrets) != 0 {
		t.Fatalf("%v %+v", err, got)
	}
}

// failingAudit is a store whose audit trail refuses every event.
type failingAudit struct{ *memory.Store }

var errAuditDown = errors.New("audit down")

func (failingAudit) AppendAudit(context.Context, *storage.AuditEvent) error { return errAuditDown }

func TestAuditInTheSameTransaction(t *testing.T) {
	f := newAdminFixture(t)
	info, _ := f.create(t, partner())
	broken := admin.NewClientAdmin(failingAudit{f.store}, f.hasher, admin.ClientAdminOptions{Now: f.clock.Now})
	users := admin.NewUserAdmin(failingAudit{f.store}, f.clock.Now)
	before := f.snapshot(t)
	ctx := t.Context()
	for name, fn := range map[string]func() error{
		"fail/create": func() error { _, _, err := broken.Create(ctx, operator, partner(), admin.CreateOptions{}); return err },
		"fail/update": func() error {
			_, err := broken.Update(ctx, operator, info.ClientID, []byte(`{"client_name":"x"}`))
			return err
		},
		"fail/rotate": func() error {
			_, err := broken.RotateSecret(ctx, operator, info.ClientID, admin.RotateOptions{Grace: time.Hour})
			return err
		},
		"fail/revoke": func() error {
			_, err := broken.RevokeSecret(ctx, operator, info.ClientID, info.Secrets[0].ID)
			return err
		},
		"fail/disable": func() error { _, err := broken.SetDisabled(ctx, operator, info.ClientID, true); return err },
		"fail/delete":  func() error { return broken.Delete(ctx, operator, info.ClientID) },
		"fail/import": func() error {
			_, err := broken.Import(ctx, operator, []registration.ClientSpec{partner()}, nil)
			return err
		},
		"fail/user-create": func() error {
			_, err := users.Create(ctx, operator, admin.UserSpec{Username: "bob", Password: "correct horse battery"})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := fn(); !errors.Is(err, errAuditDown) {
				t.Fatalf("err = %v", err)
			}
			if f.snapshot(t) != before {
				t.Fatal("the change committed without its audit event")
			}
		})
	}
	if us, _ := f.store.ListUsers(ctx); len(us) != 0 {
		t.Fatal("user committed without its audit event")
	}
}

func TestDeleteClient(t *testing.T) {
	f := newAdminFixture(t)
	info, _ := f.create(t, partner())
	if err := f.admin.Delete(t.Context(), operator, info.ClientID); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Delete(t.Context(), operator, info.ClientID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if ev := f.audit(t); len(ev) != 2 || ev[0].Action != admin.ActionClientDelete {
		t.Fatalf("audit %+v", ev)
	}
}

func TestImportExport(t *testing.T) {
	f := newAdminFixture(t)
	imported := strings.Repeat("i", 40)
	specs := []registration.ClientSpec{partner(), webApp(), partner()}
	specs[0].ClientID, specs[0].ClientSecret = "partner-1", imported
	specs[1].ClientID = "web-1"
	var progress []int
	res, err := f.admin.Import(t.Context(), operator, specs, func(done, total int) {
		if total != 3 {
			t.Errorf("total %d", total)
		}
		progress = append(progress, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].ClientID != "partner-1" || res[0].Secret != nil || res[1].Secret == nil || res[2].ClientID == "" {
		t.Fatalf("results %+v", res)
	}
	if len(progress) != 3 || progress[2] != 3 {
		t.Fatalf("progress %v", progress)
	}
	if !f.authenticates(t, "partner-1", imported) || !f.authenticates(t, "web-1", res[1].Secret.ClientSecret) {
		t.Fatal("imported or generated secret does not authenticate")
	}

	out, err := f.admin.Export(t.Context(), []string{"web-1", "partner-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ClientID != "partner-1" || out[0].ClientSecret != "" || out[1].Scope != "openid profile offline_access" {
		t.Fatalf("export %+v", out)
	}
	if _, err := f.admin.Export(t.Context(), []string{"nope"}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("export unknown: %v", err)
	}

	// Round trip into another environment.
	g := newAdminFixture(t)
	if _, err := g.admin.Import(t.Context(), operator, out, nil); err != nil {
		t.Fatal(err)
	}
	back, _ := g.admin.Export(t.Context(), nil)
	a, _ := json.Marshal(out)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Fatalf("round trip\n%s\n%s", a, b)
	}

	before, events := f.snapshot(t), len(f.audit(t))
	bad := webApp()
	bad.RedirectURIs = []string{"https://a.example.com/#frag"}
	short := partner()
	short.ClientSecret = "short"
	for name, tc := range map[string]struct {
		specs []registration.ClientSpec
		msg   string
	}{
		"fail/one-invalid":       {[]registration.ClientSpec{partner(), bad}, "client 2: redirect_uris"},
		"fail/existing-id":       {[]registration.ClientSpec{partner(), {ClientID: "web-1", ClientName: "x", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}}, `client_id "web-1" already exists`},
		"fail/duplicate-in-file": {[]registration.ClientSpec{{ClientID: "d", ClientName: "x", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}, {ClientID: "d", ClientName: "y", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}}, "also used by client 1"},
		"fail/short-secret":      {[]registration.ClientSpec{short}, "at least 32 characters"},
		"fail/bad-id":            {[]registration.ClientSpec{{ClientID: "a:b", ClientName: "x", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}}, "without space or ':'"},
		"fail/empty":             {nil, "no client"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.admin.Import(t.Context(), operator, tc.specs, nil)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "short") && strings.Contains(err.Error(), `"short"`) {
				t.Fatal("the error quotes the secret")
			}
			if f.snapshot(t) != before || len(f.audit(t)) != events {
				t.Fatal("a refused import changed something")
			}
		})
	}
}

func TestUserAdmin(t *testing.T) {
	f := newAdminFixture(t)
	users := admin.NewUserAdmin(f.store, f.clock.Now)
	ctx := t.Context()
	const pw = "correct horse battery staple"
	u, err := users.Create(ctx, operator, admin.UserSpec{Username: "alice", Email: "alice@example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]admin.UserSpec{
		"fail/taken":      {Username: "alice", Password: pw},
		"fail/short-pass": {Username: "bob", Password: "short"},
		"fail/uuid-name":  {Username: "0b6c1f0e-8f5d-4c52-9f39-2f0d5c1e7a10", Password: pw},
		"fail/space":      {Username: "b ob", Password: pw},
		"fail/email":      {Username: "bob", Email: "nope", Password: pw},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := users.Create(ctx, operator, spec); err == nil {
				t.Fatal("accepted")
			} else if strings.Contains(err.Error(), spec.Password) {
				t.Fatal("error quotes the password")
			}
		})
	}
	list, err := users.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %+v", err, list)
	}
	for _, ref := range []string{u.ID, "alice"} {
		if got, err := users.Get(ctx, ref); err != nil || got.ID != u.ID {
			t.Fatalf("get %s: %v", ref, err)
		}
	}
	if _, err := users.Get(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	if err := users.Delete(ctx, operator, "alice"); err != nil {
		t.Fatal(err)
	}
	events := f.audit(t)
	if len(events) != 2 || events[0].Action != admin.ActionUserDelete || events[1].Action != admin.ActionUserCreate || events[0].Target != u.ID {
		t.Fatalf("audit %+v", events)
	}
	raw, _ := json.Marshal(events)
	if strings.Contains(string(raw), pw) || strings.Contains(string(raw), "argon2") {
		t.Fatal("password material in the audit trail")
	}
}

// TestCommittedClientChangesDropTheServersCachedCopy: on the node that
// makes a change, the client cache drops its copy as soon as the change
// commits, without waiting for the store's change notification: a disabled
// or deleted client stops authenticating there at once, a rotated secret
// works at once. A refused change leaves the cache alone.
func TestCommittedClientChangesDropTheServersCachedCopy(t *testing.T) {
	f := newAdminFixture(t)
	cache := authz.NewClientCache(f.store, time.Hour, f.clock.Now) // no notifications: only the hook can drop an entry
	var dropped []string
	svc := admin.NewClientAdmin(f.store, f.hasher, admin.ClientAdminOptions{Now: f.clock.Now, Changed: func(id string) {
		dropped = append(dropped, id)
		cache.Invalidate(id)
	}})
	ctx := t.Context()
	info, _, err := svc.Create(ctx, operator, partner(), admin.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := info.ClientID
	warm := func() {
		t.Helper()
		if _, err := cache.Get(ctx, id); err != nil {
			t.Fatalf("cache: %v", err)
		}
	}
	warm()
	if _, err := svc.SetDisabled(ctx, operator, id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a disabled client is still served from the cache: %v", err)
	}
	if _, err := svc.SetDisabled(ctx, operator, id, false); err != nil {
		t.Fatal(err)
	}
	warm()
	if _, err := svc.RotateSecret(ctx, operator, id, admin.RotateOptions{Grace: time.Hour}); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Get(ctx, id)
	if err != nil || len(c.Registration().Secrets) != 2 {
		t.Fatalf("after a rotation the cache holds %v secrets (%v), want the new one too", len(c.Registration().Secrets), err)
	}
	n := len(dropped)
	if _, err := svc.Update(ctx, operator, id, []byte(`{"grant_types":["no_such_grant"]}`)); err == nil {
		t.Fatal("an invalid update was accepted")
	}
	if len(dropped) != n {
		t.Fatalf("a refused update reported a change: %v", dropped[n:])
	}
	warm()
	if err := svc.Delete(ctx, operator, id); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a deleted client is still served from the cache: %v", err)
	}
}

// TestReEnablingAClientRevokesTokensIssuedWhileItWasDisabled: disabling a
// client revokes its tokens in the same transaction; a token that a request
// which had authenticated the client before the disable still committed
// afterwards (modelled by writing the row while the client is disabled) is
// revoked by the enable, so no token issued before a re-enable is ever
// valid again. Tokens of other clients and tokens issued after the enable
// are untouched; both audit events count what they revoked.
func TestReEnablingAClientRevokesTokensIssuedWhileItWasDisabled(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	info, _ := f.create(t, partner())
	other, _ := f.create(t, partner())
	token := func(sig, clientID string) *storage.Request {
		r := &storage.Request{Kind: storage.KindAccessToken, Signature: sig, RequestID: "grant-" + sig, ClientID: clientID,
			Active: true, RequestedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(time.Hour), Data: []byte(`{}`)}
		if err := f.store.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	isActive := func(sig string) bool {
		_, err := f.store.GetRequest(ctx, storage.KindAccessToken, sig)
		if err != nil && !errors.Is(err, storage.ErrInactive) {
			t.Fatal(err)
		}
		return err == nil
	}
	token("before", info.ClientID)
	token("bystander", other.ClientID)
	if _, err := f.admin.SetDisabled(ctx, operator, info.ClientID, true); err != nil {
		t.Fatal(err)
	}
	if isActive("before") {
		t.Fatal("disabling left the client's token active")
	}
	token("in-flight", info.ClientID) // issued by a request that authenticated before the disable
	if _, err := f.admin.SetDisabled(ctx, operator, info.ClientID, false); err != nil {
		t.Fatal(err)
	}
	if isActive("before") || isActive("in-flight") {
		t.Fatal("a token issued before the enable is active after it")
	}
	token("after", info.ClientID)
	if !isActive("after") || !isActive("bystander") {
		t.Fatal("a token issued after the enable, or another client's, was revoked")
	}
	events := f.audit(t)
	if events[0].Action != admin.ActionClientEnable || events[0].Details["tokens_revoked"] != "1" ||
		events[1].Action != admin.ActionClientDisable || events[1].Details["tokens_revoked"] != "1" {
		t.Fatalf("audit %+v", events[:2])
	}
}
