package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// fakeTokens accepts "good" (client ops) and answers "noscope" with the
// scope error and anything else as invalid.
type fakeTokens struct{}

func (fakeTokens) AuthenticateAdmin(_ context.Context, token string) (string, error) {
	switch token {
	case "good":
		return "ops", nil
	case "noscope":
		return "ops-readonly", authz.ErrAdminScope
	}
	return "", authz.ErrAdminTokenInvalid
}

type fixture struct {
	url   string
	tr    *admintest.Transport
	store *memory.Store
	keys  *keys.Manager
	gate  *listGate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := memory.New()
	hasher, err := authz.NewSecretHasher([]byte("strongroom-admin-api-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := keys.GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	kekBytes, _ := keys.ParseKEK(kek)
	gate := &listGate{Keys: store}
	km, err := keys.NewManager(gate, kekBytes, keys.WithAuditTrail(store))
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureActive(t.Context(), keys.RS256, keys.ES256); err != nil {
		t.Fatal(err)
	}
	svc := server.NewAdminServices(store, server.AdminServicesOptions{Hasher: hasher})
	srv, err := admin.New(admin.Options{
		Clients:  svc.Clients,
		Users:    svc.Users,
		Audit:    svc.Audit,
		Tokens:   fakeTokens{},
		Keys:     km,
		Sessions: svc.Sessions,
		Log:      slog.New(slog.DiscardHandler),

		AuthorizationTypes: svc.AuthorizationTypes,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &fixture{url: ts.URL, tr: admintest.NewTransport(t, ts.URL, nil), store: store, keys: km, gate: gate}
}

// do sends a request with the "good" token (or token when given) and
// decodes the JSON answer into out when out is not nil.
func (f *fixture) do(t *testing.T, method, path, body string, wantStatus int, out any, token ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := "good"
	if len(token) > 0 {
		tok = token[0]
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.tr.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp
}

func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	clients, _ := f.store.ListClients(t.Context())
	users, _ := f.store.ListUsers(t.Context())
	events, _ := f.store.ListAudit(t.Context(), storage.AuditFilter{Limit: 1000})
	changes := 0
	for _, e := range events {
		if e.Outcome == storage.OutcomeSuccess { // refusals are recorded, and change nothing
			changes++
		}
	}
	keyRows, _ := f.store.ListKeys(t.Context())
	types, _ := f.store.ListAuthorizationTypes(t.Context())
	b, _ := json.Marshal([]any{clients, users, changes, keyRows, types})
	return string(b)
}

const partnerJSON = `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments","contacts":["ops@partner.example"]}`

func TestClientsHappyPath(t *testing.T) {
	f := newFixture(t)
	var created struct {
		Client registration.ClientInfo  `json:"client"`
		Secret *authzadmin.IssuedSecret `json:"secret"`
	}
	resp := f.do(t, "POST", "/admin/v1/clients?secret_expires_in=2160h", partnerJSON, 201, &created)
	id := created.Client.ClientID
	if id == "" || created.Secret == nil || created.Secret.ClientSecret == "" || created.Secret.ExpiresAt == nil ||
		resp.Header.Get("Location") != "/admin/v1/clients/"+id || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created %+v", created)
	}
	var list []registration.ClientInfo
	f.do(t, "GET", "/admin/v1/clients", "", 200, &list)
	if len(list) != 1 || list[0].ClientID != id {
		t.Fatalf("list %+v", list)
	}
	var got registration.ClientInfo
	f.do(t, "PATCH", "/admin/v1/clients/"+id, `{"client_name":"Partner Ltd","logo_uri":"https://partner.example/logo.png"}`, 200, &got)
	if got.ClientName != "Partner Ltd" || got.LogoURI != "https://partner.example/logo.png" {
		t.Fatalf("patched %+v", got)
	}
	var issued authzadmin.IssuedSecret
	f.do(t, "POST", "/admin/v1/clients/"+id+"/secrets", `{"grace":"24h"}`, 201, &issued)
	if issued.PreviousSecretID != created.Secret.SecretID || issued.ClientSecret == "" {
		t.Fatalf("rotated %+v", issued)
	}
	f.do(t, "GET", "/admin/v1/clients/"+id, "", 200, &got)
	if len(got.Secrets) != 2 || !got.SecretsExpiringSoon {
		t.Fatalf("after rotation %+v", got)
	}
	f.do(t, "DELETE", "/admin/v1/clients/"+id+"/secrets/"+issued.PreviousSecretID, "", 200, &got)
	if len(got.Secrets) != 1 || got.Secrets[0].ID != issued.SecretID {
		t.Fatalf("after revoke %+v", got.Secrets)
	}
	f.do(t, "POST", "/admin/v1/clients/"+id+"/disable", "", 200, &got)
	if !got.Disabled {
		t.Fatal("not disabled")
	}
	var enabled registration.ClientInfo
	f.do(t, "POST", "/admin/v1/clients/"+id+"/enable", "", 200, &enabled)
	if enabled.Disabled {
		t.Fatal("not enabled")
	}

	var exported []registration.ClientSpec
	f.do(t, "GET", "/admin/v1/client-export?id="+id, "", 200, &exported)
	if len(exported) != 1 || exported[0].ClientID != id || exported[0].ClientSecret != "" {
		t.Fatalf("export %+v", exported)
	}
	exported[0].ClientID = "copied"
	body, _ := json.Marshal(exported)
	var imported struct {
		Imported []authzadmin.ImportResult `json:"imported"`
	}
	f.do(t, "POST", "/admin/v1/client-import", string(body), 201, &imported)
	if len(imported.Imported) != 1 || imported.Imported[0].ClientID != "copied" || imported.Imported[0].Secret == nil {
		t.Fatalf("import %+v", imported)
	}
	f.do(t, "DELETE", "/admin/v1/clients/copied", "", 204, nil)

	var events []authzadmin.AuditEvent
	f.do(t, "GET", "/admin/v1/audit-events?target="+id, "", 200, &events)
	var actions []string
	reads := 0
	for _, e := range events {
		if e.Actor != "client:ops" || e.Details["source"] != "admin-api" {
			t.Errorf("event %+v", e)
		}
		if e.Action == admin.ActionAdminRead { // GET /clients/{id} (issue 7: reads are audited)
			reads++
			continue
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "client.enable client.disable client.secret.revoke client.secret.rotate client.update client.create" || reads != 1 {
		t.Fatalf("actions %v, %d reads", actions, reads)
	}
	f.do(t, "GET", "/admin/v1/audit-events?action=client.delete&limit=5&since=2000-01-01T00:00:00Z", "", 200, &events)
	if len(events) != 1 || events[0].Target != "copied" {
		t.Fatalf("filtered %+v", events)
	}
	raw, _ := json.Marshal(events)
	for _, s := range []string{created.Secret.ClientSecret, issued.ClientSecret} {
		if strings.Contains(string(raw), s) {
			t.Fatal("secret in audit")
		}
	}
	if f.tr.Checked() < 12 {
		t.Fatalf("only %d exchanges validated", f.tr.Checked())
	}
}

func TestUsersHappyPath(t *testing.T) {
	f := newFixture(t)
	var u authzadmin.UserInfo
	f.do(t, "POST", "/admin/v1/users", `{"username":"alice","email":"alice@example.com","password":"correct horse battery staple"}`, 201, &u)
	var list []authzadmin.UserInfo
	f.do(t, "GET", "/admin/v1/users", "", 200, &list)
	if len(list) != 1 || list[0].ID != u.ID {
		t.Fatalf("list %+v", list)
	}
	f.do(t, "GET", "/admin/v1/users/alice", "", 200, &u)
	f.do(t, "GET", "/admin/v1/users/"+u.ID, "", 200, &u)
	f.do(t, "DELETE", "/admin/v1/users/alice", "", 204, nil)
	f.do(t, "GET", "/admin/v1/users/alice", "", 404, nil)
}

// TestUsersPhoneNumberRoundTrip: the admin API creates, shows and updates a
// user's E.164 phone_number; a new number is no longer verified.
func TestUsersPhoneNumberRoundTrip(t *testing.T) {
	f := newFixture(t)
	var u authzadmin.UserInfo
	f.do(t, "POST", "/admin/v1/users", `{"username":"alice","phone_number":"+14155550100","password":"correct horse battery staple"}`, 201, &u)
	if u.PhoneNumber != "+14155550100" || u.PhoneNumberVerified {
		t.Fatalf("created %+v", u)
	}
	f.do(t, "PATCH", "/admin/v1/users/alice", `{"phone_number_verified":true}`, 200, &u)
	f.do(t, "GET", "/admin/v1/users/alice", "", 200, &u)
	if u.PhoneNumber != "+14155550100" || !u.PhoneNumberVerified {
		t.Fatalf("after verifying %+v", u)
	}
	f.do(t, "PATCH", "/admin/v1/users/alice", `{"phone_number":"+442071838750"}`, 200, &u)
	if u.PhoneNumber != "+442071838750" || u.PhoneNumberVerified {
		t.Fatalf("a new number kept verified: %+v", u)
	}
}

func TestFailures(t *testing.T) {
	f := newFixture(t)
	var created struct {
		Client registration.ClientInfo `json:"client"`
	}
	f.do(t, "POST", "/admin/v1/clients", partnerJSON, 201, &created)
	id := created.Client.ClientID
	f.do(t, "POST", "/admin/v1/clients/"+id+"/secrets", `{"grace":"1h"}`, 201, nil)

	for name, tc := range map[string]struct {
		method, path, body, token string
		skipRequestCheck          bool
		status                    int
		detail, challenge         string
	}{
		"fail/no-token":              {method: "GET", path: "/admin/v1/clients", token: "", status: 401, challenge: `Bearer realm="strongroom-admin"`},
		"fail/invalid-token":         {method: "GET", path: "/admin/v1/clients", token: "expired", status: 401, challenge: `error="invalid_token"`},
		"fail/wrong-scope":           {method: "GET", path: "/admin/v1/clients", token: "noscope", status: 403, challenge: `error="insufficient_scope", scope="strongroom:admin"`},
		"fail/unknown-client":        {method: "GET", path: "/admin/v1/clients/nope", status: 404, detail: `client \"nope\" not found`},
		"fail/unknown-client-rotate": {method: "POST", path: "/admin/v1/clients/nope/secrets", body: `{"grace":"1h"}`, status: 404},
		"fail/fragment":              {method: "POST", path: "/admin/v1/clients", body: `{"client_name":"x","grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://a.example/cb#f"]}`, status: 400, detail: "must not contain a fragment"},
		"fail/wildcard-patch":        {method: "PATCH", path: "/admin/v1/clients/" + id, body: `{"grant_types":["authorization_code"],"redirect_uris":["https://*.example/cb"]}`, status: 400, detail: "wildcard"},
		"fail/unknown-field":         {method: "POST", path: "/admin/v1/clients", body: `{"client_name":"x","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","redirect_uri":"x"}`, skipRequestCheck: true, status: 400, detail: "unknown field"},
		"fail/not-json":              {method: "POST", path: "/admin/v1/clients", body: `{`, skipRequestCheck: true, status: 400, detail: "not valid JSON"},
		"fail/third-secret":          {method: "POST", path: "/admin/v1/clients/" + id + "/secrets", body: `{"grace":"1h"}`, status: 409, detail: "two live secrets"},
		"fail/bad-grace":             {method: "POST", path: "/admin/v1/clients/" + id + "/secrets", body: `{"grace":"tomorrow"}`, skipRequestCheck: true, status: 400, detail: "grace must be a duration"},
		"fail/unknown-secret":        {method: "DELETE", path: "/admin/v1/clients/" + id + "/secrets/000000000000", status: 404, detail: "has no secret"},
		"fail/import-malformed":      {method: "POST", path: "/admin/v1/client-import", body: `[{"client_name":"x"}, 3]`, skipRequestCheck: true, status: 400},
		"fail/import-invalid":        {method: "POST", path: "/admin/v1/client-import", body: `[{"client_name":"x","grant_types":["password"],"token_endpoint_auth_method":"client_secret_basic"}]`, skipRequestCheck: true, status: 400, detail: "client 1: grant_types"},
		"fail/import-existing":       {method: "POST", path: "/admin/v1/client-import", body: `[{"client_id":"` + id + `","client_name":"x","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}]`, status: 409, detail: "already exists"},
		"fail/weak-password":         {method: "POST", path: "/admin/v1/users", body: `{"username":"bob","password":"short"}`, status: 400, detail: "password"},
		"fail/bad-phone-create":      {method: "POST", path: "/admin/v1/users", body: `{"username":"bob","phone_number":"555-0100","password":"correct horse battery staple"}`, skipRequestCheck: true, status: 400, detail: "E.164"},
		"fail/bad-phone-update":      {method: "PATCH", path: "/admin/v1/users/bob", body: `{"phone_number":"+1 415 555 0100"}`, status: 400, detail: "E.164"},
		"fail/audit-since":           {method: "GET", path: "/admin/v1/audit-events?since=yesterday", skipRequestCheck: true, status: 400, detail: "RFC 3339"},
		"fail/unknown-path":          {method: "GET", path: "/admin/v1/nothing", status: 404},
		"fail/wrong-method":          {method: "PUT", path: "/admin/v1/clients/" + id, body: `{}`, status: 405},
		"fail/wrong-content-type":    {method: "PATCH", path: "/admin/v1/clients/" + id, body: "x", skipRequestCheck: true, status: 400},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot(t)
			if tc.skipRequestCheck {
				f.tr.SkipRequestCheck()
			}
			var p admin.Problem
			token := []string{"good"}
			if tc.token != "good" && (tc.token != "" || strings.Contains(name, "token")) {
				token = []string{tc.token}
			}
			resp := f.do(t, tc.method, tc.path, tc.body, tc.status, &p, token...)
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if p.Status != tc.status || p.Type == "" || p.Title == "" || !strings.Contains(p.Detail+strings.Join(p.Errors, "\n"), strings.ReplaceAll(tc.detail, `\"`, `"`)) {
				t.Errorf("problem %+v, want detail %q", p, tc.detail)
			}
			if tc.challenge != "" && !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", resp.Header.Get("WWW-Authenticate"), tc.challenge)
			}
			if f.snapshot(t) != before {
				t.Error("a refused request changed something")
			}
		})
	}
}
