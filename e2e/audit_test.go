package e2e

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
)

// TestAuditTrailRecordsSecurityEventsWithoutSecrets drives a login with
// consent, a code exchange, a refresh, a refresh token reuse, a revocation
// and a failed client authentication through the real server, then checks
// that each was audited, that no event holds a token, code, password or
// client secret (nor the signature half of a token), and that the chain
// verifies.
func TestAuditTrailRecordsSecurityEventsWithoutSecrets(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)

	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "offline_access"}}
	verifier := oauth2.GenerateVerifier()
	loc := e.login(newBrowser(t), conf.AuthCodeURL("state-"+randString(), oauth2.S256ChallengeOption(verifier)), "alice", testPassword, true)
	code := loc.Query().Get("code")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	}
	status, next := refresh(tok.RefreshToken)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, next)
	}
	if status, m := refresh(tok.RefreshToken); status != 400 || m["error"] != "invalid_grant" { // reuse
		t.Fatalf("reuse: %d %v", status, m)
	}
	_, tok2 := e.codeFlowTokens(t, c, secret, false)
	if status, _ := postForm(t, e.issuer+"/oauth2/revoke", url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}}, c.ID, secret); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	wrongSecret := "wrong-" + randString()
	if status, _ := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, wrongSecret); status != 401 {
		t.Fatalf("wrong secret: %d", status)
	}
	if status, _ := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "no-such-client", wrongSecret); status != 401 {
		t.Fatalf("unknown client: %d", status)
	}

	events, err := e.srv.Store.ListAudit(ctx, storage.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byAction := map[string][]storage.AuditEvent{}
	for _, ev := range events {
		byAction[ev.Action] = append(byAction[ev.Action], ev)
	}
	want := func(action string, check func(storage.AuditEvent) bool) {
		t.Helper()
		if !slices.ContainsFunc(byAction[action], check) {
			t.Errorf("no matching %s event among %d events: %+v", action, len(events), byAction[action])
		}
	}
	want("login.password", func(ev storage.AuditEvent) bool {
		return ev.Outcome == storage.OutcomeSuccess && ev.Target == e.userID
	})
	want("consent.grant", func(ev storage.AuditEvent) bool {
		return ev.Actor == "user:"+e.userID && ev.Details["client_id"] == c.ID && strings.Contains(ev.Details["scopes"], "offline_access")
	})
	want("refresh.reuse", func(ev storage.AuditEvent) bool {
		return ev.Outcome == storage.OutcomeFailure && ev.Details["client_id"] == c.ID && ev.Details["subject"] == e.userID &&
			ev.Details["revoked"] == "grant_tokens"
	})
	want("token.revoke", func(ev storage.AuditEvent) bool {
		return ev.Actor == "client:"+c.ID && ev.Details["token_type_hint"] == "refresh_token" && ev.Details["token_found"] == "true"
	})
	want("client.auth", func(ev storage.AuditEvent) bool {
		return ev.Actor == "client:"+c.ID && ev.Outcome == storage.OutcomeFailure && ev.Details["method"] == "client_secret_basic" &&
			ev.SourceIP != ""
	})
	for _, ev := range byAction["client.auth"] {
		if ev.Target == "no-such-client" {
			t.Errorf("an unregistered client id was audited (a flood of made-up ids would flood the trail): %+v", ev)
		}
	}

	// No secret, whole token, code or password anywhere in any event; nor
	// either half of an HMAC token (key.signature: the signature is the
	// row key).
	secrets := map[string]string{"client secret": secret, "wrong client secret": wrongSecret, "password": testPassword,
		"code": code, "code verifier": verifier}
	for name, v := range map[string]string{"access token": tok.AccessToken, "refresh token": tok.RefreshToken,
		"rotated access token": next["access_token"].(string), "rotated refresh token": next["refresh_token"].(string),
		"id token": next["id_token"].(string), "revoked refresh token": tok2.RefreshToken, "revoked grant's access token": tok2.AccessToken} {
		secrets[name] = v
		for i, part := range strings.Split(v, ".") {
			if len(part) >= 16 {
				secrets[name+" part "+string(rune('0'+i))] = part
			}
		}
	}
	for _, ev := range events {
		fields := []string{ev.Actor, ev.Action, ev.Target, ev.Outcome, ev.SourceIP, ev.UserAgent}
		for k, v := range ev.Details {
			fields = append(fields, k, v)
		}
		for _, f := range fields {
			for name, s := range secrets {
				if s != "" && strings.Contains(f, s) {
					t.Errorf("event %d (%s) holds the %s", ev.ID, ev.Action, name)
				}
			}
		}
	}

	systemSecret, _ := e.Secrets()
	key, err := authz.DeriveKey(systemSecret, audit.KeyPurpose)
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.New(e.srv.Store, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := trail.Verify(ctx, audit.VerifyOptions{})
	if err != nil || rep.Problem != nil || rep.Events != int64(len(events)) {
		t.Fatalf("verify: %d events of %d, problem %v, error %v", rep.Events, len(events), rep.Problem, err)
	}
}

// TestAdminAuditVerifyNamesTheRowChangedWithSQL: GET /admin/v1/audit/verify
// answers intact on an untouched trail and names the event changed with
// SQL afterwards.
func TestAdminAuditVerifyNamesTheRowChangedWithSQL(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments"}`, 201, nil)
	type verification struct {
		Intact  bool   `json:"intact"`
		Events  int64  `json:"events"`
		Head    string `json:"head"`
		Problem *struct {
			Kind    string `json:"kind"`
			EventID int64  `json:"event_id"`
			Message string `json:"message"`
		} `json:"problem"`
	}
	var v verification
	adm.do("GET", "/admin/v1/audit/verify", "", 200, &v)
	if !v.Intact || v.Events == 0 || v.Problem != nil || !strings.Contains(v.Head, ":") {
		t.Fatalf("untouched trail: %+v", v)
	}
	created, err := e.srv.Store.ListAudit(context.Background(), storage.AuditFilter{Action: "client.create"})
	if err != nil || len(created) != 1 {
		t.Fatalf("client.create event: %v %v", created, err)
	}
	pool, err := pgxpool.New(context.Background(), e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `UPDATE audit_events SET actor = 'operator:someone-else' WHERE id = $1`, created[0].ID); err != nil {
		t.Fatal(err)
	}
	v = verification{}
	adm.do("GET", "/admin/v1/audit/verify", "", 200, &v)
	if v.Intact || v.Problem == nil || v.Problem.Kind != audit.ProblemChanged || v.Problem.EventID != created[0].ID {
		t.Fatalf("after the change: %+v %+v", v, v.Problem)
	}
}
