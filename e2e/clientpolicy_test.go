package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/storage"
)

// userTokens runs the authorization code flow for alice with scopes (and
// extra authorization parameters) and returns the config and the tokens.
func (e *env) userTokens(t *testing.T, c *storage.Client, secret string, scopes []string, opts ...oauth2.AuthCodeOption) (*oauth2.Config, *oauth2.Token) {
	t.Helper()
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	loc := e.login(newBrowser(t), conf.AuthCodeURL("state-"+randString(), append(opts, oauth2.S256ChallengeOption(verifier))...), "alice", testPassword, true)
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return conf, tok
}

// A registration made before the admin-scope rule (a web app that also has
// client_credentials and strongroom:admin) still exists in the database:
// its user's access tokens, first and refreshed, are refused by the admin
// API (403, audited with the user), while its own client credentials token
// is still an operator token.
func TestAdminAPIRefusesUserTokensEvenWithTheAdminScope(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	legacy := webClient("authorization_code", "refresh_token", "client_credentials")
	legacy.Scopes = append(legacy.Scopes, authz.AdminScope)
	secret := e.createClient(legacy) // straight into the store, as an old row: no validation
	conf, tok := e.userTokens(t, legacy, secret, []string{"openid", "offline_access", authz.AdminScope})
	if !strings.Contains(tok.Extra("scope").(string), authz.AdminScope) {
		t.Fatalf("the user token was not granted the admin scope: %v", tok.Extra("scope"))
	}

	var p admin.Problem
	resp := adm.do("GET", "/admin/v1/clients", "", 403, &p, tok.AccessToken)
	if !strings.Contains(p.Detail, "client credentials grant") || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("problem %+v, challenge %q", p, resp.Header.Get("WWW-Authenticate"))
	}
	adm.do("POST", "/admin/v1/clients/"+legacy.ID+"/disable", "", 403, nil, tok.AccessToken)
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := conf.TokenSource(context.Background(), &expired).Token()
	if err != nil || refreshed.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	adm.do("GET", "/admin/v1/users", "", 403, nil, refreshed.AccessToken)
	if c, _ := e.srv.Store.GetClient(t.Context(), legacy.ID); c.Disabled {
		t.Fatal("a user token disabled a client")
	}

	adm.do("GET", "/admin/v1/clients", "", 200, nil, e.token(legacy.ID, secret, authz.AdminScope))

	events, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminAuth, Actor: "client:" + legacy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("%d refusals audited, want 3: %+v", len(events), events)
	}
	for _, ev := range events {
		if ev.Outcome != storage.OutcomeFailure || ev.Details["subject"] != e.userID || !strings.Contains(ev.Details["reason"], "issued for a user") {
			t.Errorf("refusal event %+v", ev)
		}
		if strings.Contains(ev.Details["reason"]+ev.Target, tok.AccessToken) {
			t.Error("the token is in the audit trail")
		}
	}
}

// The admin API refuses to register the admin scope on a client with a
// user-facing grant, on create, update and import, with every problem
// named; nothing is stored.
func TestAdminAPIRefusesAdminScopeOnUserFacingClients(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var ops createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"ops2","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"strongroom:admin"}`, 201, &ops)
	before, _ := e.srv.Store.ListClients(t.Context())

	for name, tc := range map[string]struct{ method, path, body, msg string }{
		"fail/create-web-app": {"POST", "/admin/v1/clients", `{"client_name":"Web","grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://app.example.com/cb"],"scope":"openid strongroom:admin","token_endpoint_auth_method":"client_secret_basic"}`,
			"scope: strongroom:admin is for operator clients using only grant type client_credentials; remove grant type authorization_code"},
		"fail/create-public": {"POST", "/admin/v1/clients", `{"client_name":"CLI","grant_types":["authorization_code"],"redirect_uris":["http://127.0.0.1/cb"],"scope":"strongroom:admin","token_endpoint_auth_method":"none"}`,
			"scope: strongroom:admin requires a confidential client"},
		"fail/update-adds-user-grant": {"PATCH", "/admin/v1/clients/" + ops.Client.ClientID, `{"grant_types":["client_credentials","authorization_code"],"redirect_uris":["https://app.example.com/cb"]}`,
			"remove grant type authorization_code"},
		"fail/import": {"POST", "/admin/v1/client-import", `[{"client_name":"Web","grant_types":["authorization_code"],"redirect_uris":["https://app.example.com/cb"],"scope":"strongroom:admin","token_endpoint_auth_method":"client_secret_basic"}]`,
			"client 1: scope: strongroom:admin is for operator clients"},
		"fail/case-variant": {"POST", "/admin/v1/clients", `{"client_name":"ops3","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"Strongroom:Admin"}`,
			`"Strongroom:Admin" differs from strongroom:admin only in case`},
	} {
		t.Run(name, func(t *testing.T) {
			var p admin.Problem
			adm.do(tc.method, tc.path, tc.body, 400, &p)
			if !slices.ContainsFunc(p.Errors, func(s string) bool { return strings.Contains(s, tc.msg) }) {
				t.Errorf("problems %q, want one containing %q", p.Errors, tc.msg)
			}
			after, _ := e.srv.Store.ListClients(t.Context())
			if a, b := mustJSON(t, after), mustJSON(t, before); a != b {
				t.Error("a refused registration changed the clients")
			}
		})
	}
}

// Withdrawing the admin scope (or the client credentials grant) from an
// operator client ends its tokens' admin access at once, not at expiry;
// and a scope that only differs in case from strongroom:admin, registered
// before the rule, is not the admin scope.
func TestAdminTokenStopsWhenItsClientLosesTheScope(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var ops createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"ops2","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"strongroom:admin payments"}`, 201, &ops)
	tok := e.token(ops.Client.ClientID, ops.Secret.ClientSecret, authz.AdminScope)
	adm.do("GET", "/admin/v1/clients", "", 200, nil, tok)
	adm.do("PATCH", "/admin/v1/clients/"+ops.Client.ClientID, `{"scope":"payments"}`, 200, nil)
	eventually(t, 5*time.Second, "the withdrawn scope to take effect", func() bool {
		return adm.status("GET", "/admin/v1/clients", tok) == http.StatusForbidden
	})
	refusals, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminAuth, Actor: "client:" + ops.Client.ClientID})
	if err != nil || len(refusals) == 0 || !strings.Contains(refusals[0].Details["reason"], "no longer registered") {
		t.Errorf("refusal not audited with its reason: %+v %v", refusals, err)
	}

	variant := &storage.Client{Name: "old ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{"STRONGROOM:ADMIN"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic}
	secret := e.createClient(variant)
	adm.do("GET", "/admin/v1/clients", "", 403, nil, e.token(variant.ID, secret, "STRONGROOM:ADMIN"))
}

// Introspection answers a client only about what it may see: a client
// without the introspect right is refused (403, whatever the token); one
// with it sees its own tokens and the access tokens issued with it as
// audience, never another client's refresh token; any other token is
// {"active":false}, byte for byte what an unknown token gets.
func TestIntrospectionOnlyForOwnAndAudienceTokens(t *testing.T) {
	e := start(t)
	cc := func(name string, introspect bool) (*storage.Client, string) {
		c := &storage.Client{Name: name, GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
			TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: introspect}}
		return c, e.createClient(c)
	}
	partner, partnerSecret := cc("partner", false)
	rs, rsSecret := cc("payments-api", true)
	other, otherSecret := cc("other-api", true)
	app := webClient("authorization_code", "refresh_token")
	app.Audience = []string{rs.ID}
	app.Metadata.Introspect = false
	appSecret := e.createClient(app)
	_, user := e.userTokens(t, app, appSecret, []string{"openid", "offline_access", "payments"}, oauth2.SetAuthURLParam("audience", rs.ID))
	if user.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	partnerToken := e.token(partner.ID, partnerSecret, "payments")
	rsToken := e.token(rs.ID, rsSecret, "payments")

	introspect := func(id, secret, token, hint string) (int, string, http.Header) {
		t.Helper()
		form := url.Values{"token": {token}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		req, _ := http.NewRequest(http.MethodPost, e.issuer+authz.PathIntrospect, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		resp.Header.Del("Date")
		resp.Header.Del("X-Request-Id")
		return resp.StatusCode, string(body), resp.Header
	}

	// Without the right: refused before the token is read.
	for _, token := range []string{user.AccessToken, user.RefreshToken, partnerToken, "ory_at_unknown.token"} {
		status, body, _ := introspect(partner.ID, partnerSecret, token, "")
		if status != http.StatusForbidden || !strings.Contains(body, `"error":"unauthorized_client"`) || strings.Contains(body, "active") {
			t.Errorf("client without the right: %d %s", status, body)
		}
	}
	_, unknown, unknownHeader := introspect(rs.ID, rsSecret, "ory_at_unknown.token", "")
	if unknown != "{\"active\":false}\n" {
		t.Fatalf("unknown token: %s", unknown)
	}
	for name, tc := range map[string]struct {
		id, secret, token, hint string
		active                  bool
	}{
		"ok/audience-sees-user-access-token":     {rs.ID, rsSecret, user.AccessToken, "", true},
		"ok/own-client-credentials-token":        {rs.ID, rsSecret, rsToken, "access_token", true},
		"fail/audience-never-sees-refresh-token": {rs.ID, rsSecret, user.RefreshToken, "", false},
		"fail/audience-refresh-token-with-hint":  {rs.ID, rsSecret, user.RefreshToken, "refresh_token", false},
		"fail/other-rs-user-access-token":        {other.ID, otherSecret, user.AccessToken, "", false},
		"fail/other-rs-user-refresh-token":       {other.ID, otherSecret, user.RefreshToken, "refresh_token", false},
		"fail/rs-sees-no-partner-token":          {rs.ID, rsSecret, partnerToken, "", false},
		"fail/other-rs-sees-no-rs-token":         {other.ID, otherSecret, rsToken, "", false},
	} {
		t.Run(name, func(t *testing.T) {
			status, body, header := introspect(tc.id, tc.secret, tc.token, tc.hint)
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			if !tc.active {
				if body != unknown || mustJSON(t, header) != mustJSON(t, unknownHeader) {
					t.Errorf("a token the caller may not see is distinguishable from an unknown one:\n%s %v\n%s %v", body, header, unknown, unknownHeader)
				}
				return
			}
			if !strings.Contains(body, `"active":true`) || !strings.Contains(body, `"client_id"`) {
				t.Errorf("%s", body)
			}
		})
	}
	_, body, _ := introspect(rs.ID, rsSecret, user.AccessToken, "")
	for _, want := range []string{`"sub":"` + e.userID + `"`, `"username":"alice"`, `"client_id":"` + app.ID + `"`, `"aud":["` + rs.ID + `"]`} {
		if !strings.Contains(body, want) {
			t.Errorf("introspection for the audience lacks %s: %s", want, body)
		}
	}
}

// Every admin API read is in the audit trail before its answer is sent:
// who (the token's client), which route and ids, the status and outcome,
// never what was returned.
func TestAdminReadsAreAudited(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner Secretive","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments"}`, 201, &created)
	id := created.Client.ClientID
	reads := []struct {
		path, route, target string
		status              int
	}{
		{"/admin/v1/clients", "/admin/v1/clients", "", 200},
		{"/admin/v1/clients/" + id, "/admin/v1/clients/:id", id, 200},
		{"/admin/v1/clients/nope", "/admin/v1/clients/:id", "nope", 404},
		{"/admin/v1/client-export?id=" + id, "/admin/v1/client-export", "", 200},
		{"/admin/v1/users", "/admin/v1/users", "", 200},
		{"/admin/v1/users/alice", "/admin/v1/users/:ref", "alice", 200},
		{"/admin/v1/users/alice/grants", "/admin/v1/users/:ref/grants", "alice", 200},
		{"/admin/v1/users/alice/sessions", "/admin/v1/users/:ref/sessions", "alice", 200},
		{"/admin/v1/keys", "/admin/v1/keys", "", 200},
		{"/admin/v1/audit-events?action=client.create", "/admin/v1/audit-events", "", 200},
	}
	for _, r := range reads {
		adm.do("GET", r.path, "", r.status, nil)
	}
	creates, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionClientCreate})
	if err != nil || len(creates) != 1 || !strings.HasPrefix(creates[0].Actor, "client:") {
		t.Fatalf("create events %+v %v", creates, err)
	}
	operator := creates[0].Actor
	events, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminRead, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(reads) {
		t.Fatalf("%d reads audited, want %d", len(events), len(reads))
	}
	slices.Reverse(events) // oldest first, like reads
	for i, r := range reads {
		ev := events[i]
		outcome := storage.OutcomeSuccess
		if r.status >= 400 {
			outcome = storage.OutcomeFailure
		}
		if ev.Actor != operator || ev.Details["route"] != r.route || ev.Target != r.target || ev.Outcome != outcome ||
			ev.Details["status"] != strconv.Itoa(r.status) || ev.SourceIP != "127.0.0.1" || ev.Details["source"] != "admin-api" {
			t.Errorf("read %s: event %+v", r.path, ev)
		}
		if raw := mustJSON(t, ev); strings.Contains(raw, "Partner Secretive") || strings.Contains(raw, "alice@example.test") {
			t.Errorf("the audit event holds content: %s", raw)
		}
	}
	if events[3].Details["query"] != "id="+id || events[9].Details["query"] != "action=client.create" {
		t.Errorf("queries %q %q", events[3].Details["query"], events[9].Details["query"])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	s, err := jsonString(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// status sends one admin API GET with token and returns the status.
func (a *adminAPI) status(method, path, token string) int {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.tr.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
