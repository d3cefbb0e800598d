package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// The admin API is never mounted on the public listener.
func TestAdminNotOnPublicListener(t *testing.T) {
	e := start(t)
	token := e.adminToken(authz.AdminScope)
	for _, path := range []string{"/admin/v1/clients", "/admin/v1/users", "/admin/v1/audit-events", "/admin/v1/clients/x/secrets"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, e.issuer+path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s on the public listener: %d, want 404", method, path, resp.StatusCode)
			}
		}
	}
}

// Happy paths of the admin API, every exchange validated against api/openapi.yaml.
func TestAdminAPIHappyPaths(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()

	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Web","grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://app.example.com/cb"],"scope":"openid offline_access","token_endpoint_auth_method":"client_secret_basic","contacts":["ops@example.com"],"logo_uri":"https://app.example.com/logo.png","policy_uri":"https://app.example.com/privacy","tos_uri":"https://app.example.com/tos","post_logout_redirect_uris":["https://app.example.com/bye"],"backchannel_logout_uri":"https://app.example.com/bcl","id_token_signed_response_alg":"ES256"}`, 201, &created)
	id := created.Client.ClientID
	var list []registration.ClientInfo
	adm.do("GET", "/admin/v1/clients", "", 200, &list)
	if len(list) != 2 { // the operator client and this one
		t.Fatalf("list: %d clients", len(list))
	}
	var got registration.ClientInfo
	adm.do("PATCH", "/admin/v1/clients/"+id, `{"client_name":"Web (EU)"}`, 200, &got)
	if got.ClientName != "Web (EU)" || got.LogoURI == "" {
		t.Fatalf("patch: %+v", got)
	}
	var exported []registration.ClientSpec
	adm.do("GET", "/admin/v1/client-export?id="+id, "", 200, &exported)
	exported[0].ClientID = "web-copy"
	body, _ := jsonString(exported)
	adm.do("POST", "/admin/v1/client-import", body, 201, nil)
	adm.do("DELETE", "/admin/v1/clients/web-copy", "", 204, nil)

	var u authzadmin.UserInfo
	adm.do("POST", "/admin/v1/users", `{"username":"bob","email":"bob@example.com","password":"a long and unusual passphrase 42"}`, 201, &u)
	var users []authzadmin.UserInfo
	adm.do("GET", "/admin/v1/users", "", 200, &users)
	if len(users) != 2 {
		t.Fatalf("users %+v", users)
	}
	adm.do("GET", "/admin/v1/users/bob", "", 200, nil)
	adm.do("DELETE", "/admin/v1/users/"+u.ID, "", 204, nil)

	var events []authzadmin.AuditEvent
	adm.do("GET", "/admin/v1/audit-events?since="+url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), "", 200, &events)
	want := map[string]bool{"client.create": false, "client.update": false, "client.import": false, "client.delete": false, "user.create": false, "user.delete": false}
	for _, ev := range events {
		if _, ok := want[ev.Action]; ok {
			want[ev.Action] = true
			if !strings.HasPrefix(ev.Actor, "client:") || ev.Details["source"] != "admin-api" || ev.SourceIP != "127.0.0.1" {
				t.Errorf("event %+v", ev)
			}
		}
	}
	for a, seen := range want {
		if !seen {
			t.Errorf("no %s event", a)
		}
	}
	if adm.tr.Checked() < 10 {
		t.Errorf("only %d exchanges validated", adm.tr.Checked())
	}
}

// Failures: authentication, bad input, unknown ids. Each is a problem
// document of the OpenAPI document, and changes nothing.
func TestAdminAPIFailures(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	noScope := e.adminToken("payments")

	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments"}`, 201, &created)
	id := created.Client.ClientID

	snapshot := func() string {
		clients, _ := e.srv.Store.ListClients(t.Context())
		evs, _ := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Limit: 1000})
		changes := 0
		for _, ev := range evs {
			if ev.Outcome == storage.OutcomeSuccess { // refusals are recorded (admin.auth), and change nothing
				changes++
			}
		}
		s, _ := jsonString([]any{clients, changes})
		return s
	}
	before := snapshot()
	for name, tc := range map[string]struct {
		method, path, body, token string
		status                    int
		challenge                 string
	}{
		"fail/no-token":          {"GET", "/admin/v1/clients", "", "", 401, `Bearer realm="strongroom-admin"`},
		"fail/garbage-token":     {"GET", "/admin/v1/clients", "", "not-a-token", 401, `error="invalid_token"`},
		"fail/wrong-scope":       {"GET", "/admin/v1/clients", "", noScope, 403, `error="insufficient_scope"`},
		"fail/wrong-scope-write": {"POST", "/admin/v1/clients/" + id + "/disable", "", noScope, 403, `scope="strongroom:admin"`},
		"fail/unknown-client":    {"GET", "/admin/v1/clients/nope", "", adm.token, 404, ""},
		"fail/fragment":          {"PATCH", "/admin/v1/clients/" + id, `{"grant_types":["authorization_code"],"redirect_uris":["https://a.example/cb#x"]}`, adm.token, 400, ""},
		"fail/wildcard":          {"POST", "/admin/v1/clients", `{"client_name":"x","grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://*.example/cb"]}`, adm.token, 400, ""},
		"fail/unknown-secret":    {"DELETE", "/admin/v1/clients/" + id + "/secrets/000000000000", "", adm.token, 404, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var p admin.Problem
			resp := adm.do(tc.method, tc.path, tc.body, tc.status, &p, tc.token)
			if p.Status != tc.status || p.Title == "" || !strings.HasPrefix(p.Type, "urn:strongroom:problem:") {
				t.Errorf("problem %+v", p)
			}
			if tc.challenge != "" && !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", resp.Header.Get("WWW-Authenticate"), tc.challenge)
			}
			if snapshot() != before {
				t.Error("a refused request changed something")
			}
		})
	}
}

// An expired admin token is answered 401 with a Bearer challenge.
func TestAdminExpiredToken(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.Authz.AccessTokenLifespan = time.Second })
	adm := e.startAdmin()
	adm.do("GET", "/admin/v1/clients", "", 200, nil)
	// The token lives a second: refused within 1.1 s from now.
	poll(1100*time.Millisecond, func() bool {
		return adm.status("GET", "/admin/v1/clients", adm.token) == http.StatusUnauthorized
	})
	var p admin.Problem
	resp := adm.do("GET", "/admin/v1/clients", "", 401, &p)
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(p.Detail, "expired") {
		t.Fatalf("expired token: %q %+v", resp.Header.Get("WWW-Authenticate"), p)
	}
}

// A disabled client cannot get tokens and its tokens introspect as inactive;
// enabled again, it works again.
func TestDisabledClientTokensInactive(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	// An introspecting resource server, the audience of the partner's tokens.
	rs := &storage.Client{Name: "rs", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		AccessTokenFormat: storage.TokenFormatOpaque, Metadata: storage.ClientMetadata{Introspect: true}}
	rsSecret := e.createClient(rs)
	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments","audience":["`+rs.ID+`"]}`, 201, &created)
	id, secret := created.Client.ClientID, created.Secret.ClientSecret
	status, body := postForm(t, e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}, "audience": {rs.ID}}, id, secret)
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	tok := body["access_token"].(string)
	introspect := func() bool {
		t.Helper()
		status, body := postForm(t, e.issuer+authz.PathIntrospect, url.Values{"token": {tok}}, rs.ID, rsSecret)
		if status != http.StatusOK {
			t.Fatalf("introspect: %d %v", status, body)
		}
		return body["active"] == true
	}
	if !introspect() {
		t.Fatal("fresh token inactive")
	}
	adm.do("POST", "/admin/v1/clients/"+id+"/disable", "", 200, nil)
	if introspect() {
		t.Fatal("a disabled client's token introspects as active")
	}
	if got := e.tokenStatus(id, secret, "payments"); got != http.StatusUnauthorized {
		t.Fatalf("disabled client got a token: %d", got)
	}
	adm.do("POST", "/admin/v1/clients/"+id+"/enable", "", 200, nil)
	if introspect() {
		t.Fatal("a token issued before the client was disabled came back to life when it was enabled again")
	}
	if got := e.tokenStatus(id, secret, "payments"); got != http.StatusOK {
		t.Fatalf("the enabled client gets no new token: %d", got)
	}
}

// TestDisablingAClientRevokesItsTokensForGood: disabling a client (admin
// API) revokes every token issued to it, its users' access and refresh
// tokens and its own client-credentials tokens, in the disabling
// transaction; enabling it again brings none of them back (introspection
// stays inactive, the refresh token is invalid_grant), while the client
// gets new tokens at once. Other clients' tokens are untouched. The audit
// event counts the revoked tokens.
func TestDisablingAClientRevokesItsTokensForGood(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	app := webClient("authorization_code", "refresh_token", "client_credentials")
	appSecret := e.createClient(app)
	bystander := webClient("authorization_code", "refresh_token")
	bystanderSecret := e.createClient(bystander)
	_, user := e.codeFlowTokens(t, app, appSecret, true)
	machine := e.token(app.ID, appSecret, "payments")
	_, kept := e.codeFlowTokens(t, bystander, bystanderSecret, true)
	active := func(id, secret, token string) bool {
		t.Helper()
		status, body := postForm(t, e.issuer+authz.PathIntrospect, url.Values{"token": {token}}, id, secret)
		if status != http.StatusOK {
			t.Fatalf("introspect: %d %v", status, body)
		}
		return body["active"] == true
	}
	for _, tok := range []string{user.AccessToken, user.RefreshToken, machine} {
		if !active(app.ID, appSecret, tok) {
			t.Fatal("a fresh token is inactive")
		}
	}

	adm.do("POST", "/admin/v1/clients/"+app.ID+"/disable", "", 200, nil)
	adm.do("POST", "/admin/v1/clients/"+app.ID+"/enable", "", 200, nil)

	for name, tok := range map[string]string{"user access token": user.AccessToken, "user refresh token": user.RefreshToken, "client_credentials token": machine} {
		if active(app.ID, appSecret, tok) {
			t.Errorf("the %s issued before the disable is active again after the enable", name)
		}
	}
	if status, body := postForm(t, e.issuer+authz.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {user.RefreshToken}}, app.ID, appSecret); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh with a token from before the disable: %d %v", status, body)
	}
	if fresh := e.token(app.ID, appSecret, "payments"); !active(app.ID, appSecret, fresh) {
		t.Fatal("a token issued after the enable is inactive")
	}
	if !active(bystander.ID, bystanderSecret, kept.AccessToken) || !active(bystander.ID, bystanderSecret, kept.RefreshToken) {
		t.Fatal("disabling one client revoked another client's tokens")
	}
	evs, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionClientDisable})
	if err != nil {
		t.Fatal(err)
	}
	// the user's access and refresh token, the machine token, and the
	// authorization code (already used, inactive, so not counted)
	if len(evs) != 1 || evs[0].Details["tokens_revoked"] != "3" {
		t.Fatalf("disable audit: %+v", evs)
	}
}
