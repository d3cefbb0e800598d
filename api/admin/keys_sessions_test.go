package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// listGate makes the next n ListKeys calls wait for each other after
// reading (at most 5 s), so that concurrent rotations all read the same key
// set before any of them writes.
type listGate struct {
	storage.Keys
	mu      sync.Mutex
	need    int
	waiting int
	release chan struct{}
}

func (g *listGate) arm(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.need, g.waiting, g.release = n, 0, make(chan struct{})
}

func (g *listGate) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := g.Keys.ListKeys(ctx)
	g.mu.Lock()
	if g.need == 0 {
		g.mu.Unlock()
		return rows, err
	}
	ch := g.release
	if g.waiting++; g.waiting == g.need {
		close(ch)
		g.need = 0
	}
	g.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
	}
	return rows, err
}

func activeKID(t *testing.T, list []keys.KeyInfo, alg string) string {
	t.Helper()
	for _, k := range list {
		if k.Alg == alg && k.State == storage.KeyStateActive {
			return k.KID
		}
	}
	t.Fatalf("no active %s key in %+v", alg, list)
	return ""
}

func TestKeysAPI(t *testing.T) {
	f := newFixture(t)
	var list []keys.KeyInfo
	resp := f.do(t, "GET", "/admin/v1/keys", "", 200, &list)
	if len(list) != 2 || list[0].Alg != keys.RS256 || list[1].Alg != keys.ES256 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list %+v", list)
	}
	raw, _ := json.Marshal(list)
	rows, _ := f.store.ListKeys(t.Context())
	for _, k := range rows {
		if strings.Contains(string(raw), string(k.PrivateEnc[:12])) {
			t.Fatal("private material in the listing")
		}
	}
	oldRS := activeKID(t, list, keys.RS256)

	t.Run("ok/rotate-publishes-next", func(t *testing.T) {
		var res []admin.KeyRotation
		f.do(t, "POST", "/admin/v1/keys/rotate", `{"alg":"ES256"}`, 200, &res)
		if len(res) != 1 || res[0].Activated != "" || res[0].Next == "" || res[0].NextSignsFrom == nil || res[0].Removed == nil {
			t.Fatalf("rotate %+v", res)
		}
	})
	t.Run("fail/next-not-ready", func(t *testing.T) {
		var p admin.Problem
		before := f.snapshot(t)
		f.do(t, "POST", "/admin/v1/keys/rotate", `{"alg":"ES256"}`, 409, &p)
		if p.Type != admin.TypeKeyNotReady || !strings.Contains(p.Detail, "may sign from") {
			t.Fatalf("problem %+v", p)
		}
		if f.snapshot(t) != before {
			t.Error("a refused rotation changed the keys")
		}
	})
	t.Run("ok/rotate-every-algorithm-forced", func(t *testing.T) {
		var res []admin.KeyRotation
		f.do(t, "POST", "/admin/v1/keys/rotate", `{"force":true}`, 200, &res)
		if len(res) != 2 || res[0].Alg != keys.RS256 || res[0].Retired != oldRS || !res[0].Forced || res[1].Activated == "" {
			t.Fatalf("rotate %+v", res)
		}
	})
	t.Run("fail/rotate-without-body-next-not-ready", func(t *testing.T) {
		// No body: every active algorithm; their fresh next keys may not sign yet.
		var p admin.Problem
		f.do(t, "POST", "/admin/v1/keys/rotate", "", 409, &p)
		if p.Type != admin.TypeKeyNotReady || !strings.Contains(p.Detail, "may sign from") {
			t.Fatalf("problem %+v", p)
		}
		// Errors speak to the user: a sentence and a hint, no chain of
		// package prefixes ("keys: rotate RS256, ES256: postgres: …").
		if strings.Contains(p.Detail, "keys:") || strings.Contains(p.Detail, "postgres:") {
			t.Errorf("detail shows the error chain: %q", p.Detail)
		}
	})
	t.Run("ok/revoke", func(t *testing.T) {
		f.do(t, "GET", "/admin/v1/keys", "", 200, &list)
		kid := activeKID(t, list, keys.ES256)
		var rev admin.KeyRevocation
		f.do(t, "POST", "/admin/v1/keys/"+kid+"/revoke", "", 200, &rev)
		if rev.KID != kid || rev.PreviousState != storage.KeyStateActive || rev.Activated == "" || rev.Activated == kid {
			t.Fatalf("revoke %+v", rev)
		}
		var p admin.Problem
		f.do(t, "POST", "/admin/v1/keys/"+kid+"/revoke", "", 409, &p)
		if !strings.Contains(p.Detail, "already revoked") {
			t.Fatalf("second revoke %+v", p)
		}
	})
	t.Run("ok/audit-names-the-admin-client", func(t *testing.T) {
		var events []authzadmin.AuditEvent
		f.do(t, "GET", "/admin/v1/audit-events?action=key.rotate", "", 200, &events)
		if len(events) < 3 {
			t.Fatalf("rotate events %+v", events)
		}
		for _, e := range events {
			if e.Actor != "client:ops" || e.SourceIP != "127.0.0.1" {
				t.Errorf("event %+v", e)
			}
		}
		f.do(t, "GET", "/admin/v1/audit-events?action=key.revoke", "", 200, &events)
		if len(events) != 2 || events[0].Outcome != storage.OutcomeFailure || events[1].Outcome != storage.OutcomeSuccess || events[1].Actor != "client:ops" {
			t.Fatalf("revoke events %+v", events)
		}
	})

	for name, tc := range map[string]struct {
		method, path, body string
		skipRequestCheck   bool
		status             int
		typ, detail        string
	}{
		"fail/unknown-kid":        {method: "POST", path: "/admin/v1/keys/nope/revoke", status: 404, typ: admin.TypeNotFound, detail: "No signing key has that kid."},
		"fail/unsupported-alg":    {method: "POST", path: "/admin/v1/keys/rotate", body: `{"alg":"HS256"}`, skipRequestCheck: true, status: 400, detail: "signing algorithm is not supported"},
		"fail/unknown-field":      {method: "POST", path: "/admin/v1/keys/rotate", body: `{"algorithm":"RS256"}`, skipRequestCheck: true, status: 400, detail: "unknown field"},
		"fail/list-wrong-method":  {method: "DELETE", path: "/admin/v1/keys", status: 405},
		"fail/revoke-wrong-verb":  {method: "DELETE", path: "/admin/v1/keys/nope", status: 404},
		"fail/alg-not-configured": {method: "POST", path: "/admin/v1/keys/rotate", body: `{"alg":"EdDSA"}`, status: 200},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.status == 200 {
				// Rotating an algorithm that has no keys only publishes a next
				// key: not an error, but worth pinning down.
				var res []admin.KeyRotation
				f.do(t, tc.method, tc.path, tc.body, 200, &res)
				if len(res) != 1 || res[0].Activated != "" || res[0].Next == "" {
					t.Fatalf("rotate %+v", res)
				}
				return
			}
			before := f.snapshot(t)
			if tc.skipRequestCheck {
				f.tr.SkipRequestCheck()
			}
			var p admin.Problem
			f.do(t, tc.method, tc.path, tc.body, tc.status, &p)
			if p.Status != tc.status || (tc.typ != "" && p.Type != tc.typ) || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v", p)
			}
			if f.snapshot(t) != before {
				t.Error("a refused request changed something")
			}
		})
	}
}

// Two rotations that read the keys at the same time: exactly one changes
// them, the other is a 409 concurrent-change problem and changes nothing.
func TestKeysAPIConcurrentRotate(t *testing.T) {
	f := newFixture(t)
	f.gate.arm(2)
	type answer struct {
		status int
		body   []byte
	}
	answers := make(chan answer, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("POST", f.url+"/admin/v1/keys/rotate", strings.NewReader(`{"alg":"RS256","force":true}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer good")
			resp, err := f.tr.Client().Do(req)
			if err != nil {
				answers <- answer{status: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answers <- answer{status: resp.StatusCode, body: body}
		}()
	}
	got := map[int]int{}
	var conflict admin.Problem
	for range 2 {
		a := <-answers
		got[a.status]++
		if a.status == 409 {
			_ = json.Unmarshal(a.body, &conflict)
		}
	}
	if got[200] != 1 || got[409] != 1 {
		t.Fatalf("statuses %v", got)
	}
	if conflict.Type != admin.TypeConcurrentChange || !strings.Contains(conflict.Detail, "changed the signing keys at the same time") {
		t.Fatalf("problem %+v", conflict)
	}
	var list []keys.KeyInfo
	f.do(t, "GET", "/admin/v1/keys", "", 200, &list)
	n := 0
	for _, k := range list {
		if k.Alg == keys.RS256 {
			n++
		}
	}
	if n != 2 { // the old key retired and one fresh active key: one rotation
		t.Fatalf("RS256 keys %+v", list)
	}
}

// userWithSession creates a user through the API and gives them two
// browser sessions logged in to a client with a back-channel logout URI,
// a consent to that client and an access token from it.
func userWithSession(t *testing.T, f *fixture) (user authzadmin.UserInfo, clientID string) {
	t.Helper()
	f.do(t, "POST", "/admin/v1/users", `{"username":"carol","password":"a long and unusual passphrase 42"}`, 201, &user)
	var created struct {
		Client registration.ClientInfo `json:"client"`
	}
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"Web","grant_types":["authorization_code"],"redirect_uris":["https://app.example.com/cb"],"scope":"openid","token_endpoint_auth_method":"client_secret_basic","backchannel_logout_uri":"https://app.example.com/bcl"}`, 201, &created)
	clientID = created.Client.ClientID
	ctx := t.Context()
	now := time.Now()
	for _, id := range []string{"session-one-hash", "session-two-hash"} {
		if err := f.store.CreateBrowserSession(ctx, &storage.BrowserSession{ID: id, UserID: user.ID, AuthTime: now, AMR: []string{"pwd"},
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.AddSessionClient(ctx, id, clientID, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.SaveConsent(ctx, &storage.Consent{UserID: user.ID, ClientID: clientID, Scopes: []string{"openid"}, GrantedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: "at-sig", RequestID: "grant-1",
		ClientID: clientID, Subject: user.ID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	return user, clientID
}

func TestUserGrantsAPI(t *testing.T) {
	f := newFixture(t)
	u, clientID := userWithSession(t, f)
	var grants []authz.GrantInfo
	f.do(t, "GET", "/admin/v1/users/carol/grants", "", 200, &grants)
	if len(grants) != 1 || grants[0].ClientID != clientID || grants[0].ClientName != "Web" || grants[0].Scopes[0] != "openid" {
		t.Fatalf("grants %+v", grants)
	}
	var rev admin.GrantRevocation
	f.do(t, "DELETE", "/admin/v1/users/"+u.ID+"/grants/"+clientID, "", 200, &rev)
	if rev.TokensRevoked != 1 || rev.ClientID != clientID || rev.UserID != u.ID {
		t.Fatalf("revocation %+v", rev)
	}
	if _, err := f.store.GetRequest(t.Context(), storage.KindAccessToken, "at-sig"); !errors.Is(err, storage.ErrInactive) {
		t.Fatalf("access token after revocation: %v", err)
	}
	f.do(t, "GET", "/admin/v1/users/carol/grants", "", 200, &grants)
	if len(grants) != 0 {
		t.Fatalf("grants after revocation %+v", grants)
	}
	var events []authzadmin.AuditEvent
	f.do(t, "GET", "/admin/v1/audit-events?action=grant.revoke", "", 200, &events)
	if len(events) != 1 || events[0].Actor != "client:ops" || events[0].Target != u.ID {
		t.Fatalf("audit %+v", events)
	}
	for name, tc := range map[string]struct {
		method, path string
		detail       string
	}{
		"fail/unknown-user-list":   {"GET", "/admin/v1/users/nobody/grants", `user "nobody" not found`},
		"fail/unknown-user-revoke": {"DELETE", "/admin/v1/users/nobody/grants/" + clientID, `user "nobody" not found`},
		"fail/no-such-grant":       {"DELETE", "/admin/v1/users/carol/grants/" + clientID, "no such grant"},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot(t)
			var p admin.Problem
			f.do(t, tc.method, tc.path, "", 404, &p)
			if p.Type != admin.TypeNotFound || !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("problem %+v", p)
			}
			if f.snapshot(t) != before {
				t.Error("a refused request changed something")
			}
		})
	}
}

func TestUserSessionsAPI(t *testing.T) {
	f := newFixture(t)
	u, clientID := userWithSession(t, f)
	var sessions []admin.Session
	f.do(t, "GET", "/admin/v1/users/carol/sessions", "", 200, &sessions)
	if len(sessions) != 2 || len(sessions[0].Clients) != 1 || sessions[0].Clients[0] != clientID || sessions[0].AMR[0] != "pwd" {
		t.Fatalf("sessions %+v", sessions)
	}
	f.do(t, "DELETE", "/admin/v1/users/carol/sessions/session-one-hash", "", 204, nil)
	deliveries, _ := f.store.ListLogoutDeliveries(t.Context())
	if len(deliveries) != 1 || deliveries[0].ClientID != clientID || deliveries[0].SessionID != "session-one-hash" {
		t.Fatalf("back-channel logout not queued: %+v", deliveries)
	}
	var p admin.Problem
	f.do(t, "DELETE", "/admin/v1/users/carol/sessions/session-one-hash", "", 404, &p)
	if !strings.Contains(p.Detail, "no such session") {
		t.Fatalf("problem %+v", p)
	}
	var ended admin.SessionsEnded
	f.do(t, "DELETE", "/admin/v1/users/"+u.ID+"/sessions", "", 200, &ended)
	if ended.Ended != 1 || ended.UserID != u.ID {
		t.Fatalf("ended %+v", ended)
	}
	if deliveries, _ = f.store.ListLogoutDeliveries(t.Context()); len(deliveries) != 2 {
		t.Fatalf("deliveries %+v", deliveries)
	}
	f.do(t, "GET", "/admin/v1/users/carol/sessions", "", 200, &sessions)
	if len(sessions) != 0 {
		t.Fatalf("sessions left %+v", sessions)
	}
	var events []authzadmin.AuditEvent
	f.do(t, "GET", "/admin/v1/audit-events?action=session.end", "", 200, &events)
	if len(events) != 2 || events[0].Actor != "client:ops" || events[0].Details["backchannel_queued"] != "1" {
		t.Fatalf("audit %+v", events)
	}
	for name, path := range map[string]string{
		"fail/unknown-user-list":    "/admin/v1/users/nobody/sessions",
		"fail/unknown-user-end":     "/admin/v1/users/nobody/sessions/session-two-hash",
		"fail/unknown-user-end-all": "/admin/v1/users/nobody/sessions",
	} {
		t.Run(name, func(t *testing.T) {
			method := "DELETE"
			if strings.HasSuffix(name, "-list") {
				method = "GET"
			}
			var p admin.Problem
			f.do(t, method, path, "", 404, &p)
			if !strings.Contains(p.Detail, `user "nobody" not found`) {
				t.Errorf("problem %+v", p)
			}
		})
	}
}

// Refused authentications are in the audit trail: who (anonymous, or the
// client a token of the wrong scope belongs to), from where, why; never
// the token.
func TestAuthFailuresAudited(t *testing.T) {
	f := newFixture(t)
	f.do(t, "GET", "/admin/v1/keys", "", 401, nil, "")
	f.do(t, "GET", "/admin/v1/keys", "", 401, nil, "secret-looking-token-value")
	f.do(t, "GET", "/admin/v1/keys", "", 403, nil, "noscope")
	f.do(t, "GET", "/admin/v1/keys", "", 200, nil) // success is not an admin.auth event
	var events []authzadmin.AuditEvent
	f.do(t, "GET", "/admin/v1/audit-events?action=admin.auth", "", 200, &events)
	if len(events) != 3 {
		t.Fatalf("events %+v", events)
	}
	want := []struct{ actor, reason string }{
		{"client:ops-readonly", "scope"},
		{"anonymous", "invalid"},
		{"anonymous", "no bearer token"},
	}
	for i, e := range events {
		if e.Actor != want[i].actor || e.Outcome != storage.OutcomeFailure || e.SourceIP != "127.0.0.1" ||
			!strings.Contains(e.Details["reason"], want[i].reason) || e.Details["path"] != "/admin/v1/keys" || e.Details["method"] != "GET" {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	raw, _ := json.Marshal(events)
	for _, tok := range []string{"secret-looking-token-value", "noscope"} {
		if strings.Contains(string(raw), tok) {
			t.Fatalf("token %q in the audit trail", tok)
		}
	}
}

// The authorization details types (RFC 9396) through the admin API: the
// built-in payment_initiation listed first, a registered type added, read,
// listed and removed, each change audited; a bad schema, a schema that
// loads references, a taken or built-in name refused without a change.
func TestAuthorizationTypesAPI(t *testing.T) {
	f := newFixture(t)
	var list []authzadmin.AuthorizationTypeInfo
	f.do(t, "GET", "/admin/v1/authorization-types", "", 200, &list)
	if len(list) != 1 || list[0].Type != "payment_initiation" || !list[0].Builtin || !strings.Contains(string(list[0].Schema), "instructedAmount") {
		t.Fatalf("list %+v", list)
	}
	body := `{"type":"account_information","schema":{"type":"object","required":["accounts"]}}`
	var got authzadmin.AuthorizationTypeInfo
	f.do(t, "POST", "/admin/v1/authorization-types", body, 201, &got)
	if got.Type != "account_information" || got.Builtin || got.CreatedAt == nil {
		t.Fatalf("created %+v", got)
	}
	f.do(t, "GET", "/admin/v1/authorization-types/account_information", "", 200, &got)
	if !strings.Contains(string(got.Schema), `"accounts"`) {
		t.Fatalf("schema %s", got.Schema)
	}
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		detail             string
	}{
		"fail/taken":           {"POST", "/admin/v1/authorization-types", body, 409, "already exists"},
		"fail/builtin-add":     {"POST", "/admin/v1/authorization-types", `{"type":"payment_initiation","schema":{}}`, 409, "built in"},
		"fail/builtin-remove":  {"DELETE", "/admin/v1/authorization-types/payment_initiation", "", 409, "built in"},
		"fail/remote-ref":      {"POST", "/admin/v1/authorization-types", `{"type":"x","schema":{"$ref":"https://example.com/s.json"}}`, 400, ""},
		"fail/bad-keyword":     {"POST", "/admin/v1/authorization-types", `{"type":"x","schema":{"type":"objekt"}}`, 400, ""},
		"fail/name-with-space": {"POST", "/admin/v1/authorization-types", `{"type":"a b","schema":{}}`, 400, ""},
		"fail/unknown":         {"DELETE", "/admin/v1/authorization-types/ghost", "", 404, "not found"},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot(t)
			var p admin.Problem
			f.do(t, tc.method, tc.path, tc.body, tc.status, &p)
			if !strings.Contains(p.Detail+strings.Join(p.Errors, " "), tc.detail) {
				t.Errorf("problem %+v", p)
			}
			if f.snapshot(t) != before {
				t.Error("a refused request changed something")
			}
		})
	}
	f.do(t, "DELETE", "/admin/v1/authorization-types/account_information", "", 204, nil)
	f.do(t, "GET", "/admin/v1/authorization-types", "", 200, &list)
	if len(list) != 1 {
		t.Fatalf("after removal %+v", list)
	}
	var events []authzadmin.AuditEvent
	f.do(t, "GET", "/admin/v1/audit-events?target=account_information", "", 200, &events)
	var changes []string
	for _, ev := range events {
		if ev.Action != admin.ActionAdminRead {
			if ev.Actor != "client:ops" {
				t.Errorf("actor %q", ev.Actor)
			}
			changes = append(changes, ev.Action)
		}
	}
	if strings.Join(changes, " ") != authzadmin.ActionAuthorizationTypeRemove+" "+authzadmin.ActionAuthorizationTypeAdd {
		t.Fatalf("audited changes %q (newest first)", changes)
	}
}
