package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/postgres"
)

// seeded is a user with a consent, tokens and two sessions at a client
// that registered a back-channel logout URI.
type seeded struct {
	store            *postgres.Store
	userID, clientID string
	sessions         []string
}

func seedUserActivity(t *testing.T, e env) seeded {
	t.Helper()
	mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice", "--password-stdin")
	st := openTestStore(t, e)
	ctx := t.Context()
	u, err := st.GetUserByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	c := &storage.Client{ID: "bank-app", Name: "Bank app", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://bank.example/cb"},
		Scopes: []string{"openid", "email"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, CreatedAt: now, UpdatedAt: now,
		Metadata: storage.ClientMetadata{BackchannelLogoutURI: "https://bank.example/backchannel"}}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SaveConsent(ctx, &storage.Consent{UserID: u.ID, ClientID: c.ID, Scopes: []string{"openid", "email"}, GrantedAt: now}))
	for _, kind := range []storage.RequestKind{storage.KindAccessToken, storage.KindRefreshToken} {
		must(st.CreateRequest(ctx, &storage.Request{Kind: kind, Signature: "sig-" + string(kind), RequestID: "grant-1", ClientID: c.ID,
			Subject: u.ID, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte("{}")}))
	}
	s := seeded{store: st, userID: u.ID, clientID: c.ID}
	for _, id := range []string{"aaaa1111", "bbbb2222"} {
		must(st.CreateBrowserSession(ctx, &storage.BrowserSession{ID: id, UserID: u.ID, AuthTime: now, AMR: []string{"pwd"},
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(st.AddSessionClient(ctx, id, c.ID, now))
		s.sessions = append(s.sessions, id)
	}
	return s
}

func (s seeded) active(t *testing.T, kind storage.RequestKind) bool {
	t.Helper()
	_, err := s.store.GetRequest(t.Context(), kind, "sig-"+string(kind))
	return err == nil
}

func (s seeded) deliveries(t *testing.T) []storage.LogoutDelivery {
	t.Helper()
	ds, err := s.store.ListLogoutDeliveries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestUsersGrants(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)

	t.Run("ok/list", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "grants", "list", "alice", "-o", "json")
		var got []grantView
		if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 ||
			got[0].ClientID != "bank-app" || got[0].ClientName != "Bank app" || strings.Join(got[0].Scopes, " ") != "openid email" {
			t.Fatalf("grants list: %v %s", err, r.out)
		}
		r = mustRun(t, e, "", "users", "grants", "list", s.userID)
		if !strings.Contains(r.out, "bank-app") || !strings.Contains(r.out, "openid email") {
			t.Fatalf("table: %s", r.out)
		}
	})
	t.Run("fail/bad-input-changes-nothing", func(t *testing.T) {
		wantFail(t, run(t, e, "", "users", "grants", "revoke", "alice", "bank-app"), exitUsage, "--yes")
		wantFail(t, run(t, e, "", "users", "grants", "revoke", "nobody", "bank-app", "--yes"), exitFailure, `user "nobody" not found`)
		wantFail(t, run(t, e, "", "users", "grants", "revoke", "alice", "other-app", "--yes"), exitFailure, "has no grant")
		wantFail(t, run(t, e, "", "users", "grants", "revoke", "alice"), exitUsage, "accepts 2 arg(s)")
		if !s.active(t, storage.KindAccessToken) || !s.active(t, storage.KindRefreshToken) {
			t.Fatal("a refused revoke revoked tokens")
		}
		if _, err := s.store.GetConsent(t.Context(), s.userID, s.clientID); err != nil {
			t.Fatalf("a refused revoke removed the consent: %v", err)
		}
	})
	t.Run("ok/revoke-revokes-tokens", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "grants", "revoke", "alice", "bank-app", "--yes")
		if !strings.Contains(r.out, "2 tokens revoked") {
			t.Fatalf("revoke: %s", r.out)
		}
		if s.active(t, storage.KindAccessToken) || s.active(t, storage.KindRefreshToken) {
			t.Fatal("tokens still active after the grant was revoked")
		}
		r = mustRun(t, e, "", "users", "grants", "list", "alice", "-o", "json")
		if strings.TrimSpace(r.out) != "[]" {
			t.Fatalf("grant still listed: %s", r.out)
		}
		events, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: "grant.revoke"})
		if err != nil || len(events) != 1 || events[0].Actor != "operator:cli" || events[0].Details["tokens_revoked"] != "2" {
			t.Fatalf("audit: %+v %v", events, err)
		}
	})
}

func TestUsersSessions(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)

	t.Run("ok/list", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "sessions", "list", "alice", "-o", "json")
		var got []sessionView
		if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 2 || len(got[0].Clients) != 1 || got[0].Clients[0] != "bank-app" {
			t.Fatalf("sessions list: %v %s", err, r.out)
		}
		r = mustRun(t, e, "", "users", "sessions", "list", "alice")
		if !strings.Contains(r.out, "aaaa1111") || !strings.Contains(r.out, "bank-app") {
			t.Fatalf("table: %s", r.out)
		}
	})
	t.Run("fail/bad-input-changes-nothing", func(t *testing.T) {
		wantFail(t, run(t, e, "", "users", "sessions", "revoke", "alice", "--yes"), exitUsage, "SESSION_ID")
		wantFail(t, run(t, e, "", "users", "sessions", "revoke", "alice", "aaaa1111", "--all", "--yes"), exitUsage, "not both")
		wantFail(t, run(t, e, "", "users", "sessions", "revoke", "alice", "aaaa1111"), exitUsage, "--yes")
		wantFail(t, run(t, e, "", "users", "sessions", "revoke", "alice", "nope", "--yes"), exitFailure, "no live session")
		wantFail(t, run(t, e, "", "users", "sessions", "revoke", "nobody", "--all", "--yes"), exitFailure, "not found")
		if sessions, _ := s.store.ListBrowserSessions(t.Context(), s.userID); len(sessions) != 2 || len(s.deliveries(t)) != 0 {
			t.Fatalf("refused revokes changed sessions (%d) or queued logouts", len(sessions))
		}
	})
	t.Run("ok/revoke-one-queues-backchannel-logout", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "sessions", "revoke", "alice", "aaaa1111", "--yes")
		if !strings.Contains(r.out, "Ended session aaaa1111") {
			t.Fatalf("revoke: %s", r.out)
		}
		if _, err := s.store.GetBrowserSession(t.Context(), "aaaa1111"); err == nil {
			t.Fatal("the session survived")
		}
		ds := s.deliveries(t)
		if len(ds) != 1 || ds[0].ClientID != "bank-app" || ds[0].Subject != s.userID || ds[0].SessionID != "aaaa1111" {
			t.Fatalf("outbox: %+v", ds)
		}
	})
	t.Run("ok/revoke-all", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "sessions", "revoke", "alice", "--all", "--yes")
		if !strings.Contains(r.out, "Ended 1 sessions") {
			t.Fatalf("revoke --all: %s", r.out)
		}
		if sessions, _ := s.store.ListBrowserSessions(t.Context(), s.userID); len(sessions) != 0 || len(s.deliveries(t)) != 2 {
			t.Fatalf("after --all: %d sessions, %d deliveries", len(sessions), len(s.deliveries(t)))
		}
	})
}

func TestClientsCreateLogoutAndFirstPartyFlags(t *testing.T) {
	e := newEnv(t)
	base := []string{"clients", "create", "--name", "Bank app", "--grant-type", "authorization_code",
		"--redirect-uri", "https://bank.example/cb", "--scope", "openid", "--auth-method", "client_secret_basic", "-o", "json"}
	r := mustRun(t, e, "", append(base, "--first-party", "--backchannel-logout-uri", "https://bank.example/backchannel",
		"--post-logout-redirect-uri", "https://bank.example/bye")...)
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(r.out), &out); err != nil {
		t.Fatal(err)
	}
	c, err := openTestStore(t, e).GetClient(t.Context(), out.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Metadata.SkipConsent || c.Metadata.BackchannelLogoutURI != "https://bank.example/backchannel" ||
		len(c.PostLogoutRedirectURIs) != 1 || c.PostLogoutRedirectURIs[0] != "https://bank.example/bye" {
		t.Fatalf("stored %+v", c)
	}
	for name, uri := range map[string]string{
		"fail/http":      "http://bank.example/backchannel",
		"fail/fragment":  "https://bank.example/backchannel#x",
		"fail/relative":  "/backchannel",
		"fail/userinfo":  "https://u:p@bank.example/backchannel",
		"fail/wildcard":  "https://*.bank.example/backchannel",
		"fail/no-scheme": "bank.example/backchannel",
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, run(t, e, "", append(base, "--backchannel-logout-uri", uri)...), exitUsage, "--backchannel-logout-uri")
		})
	}
	if n := countClients(t, e); n != 1 {
		t.Fatalf("%d clients after refused creates", n)
	}
}
