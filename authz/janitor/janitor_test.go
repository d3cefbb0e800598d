package janitor

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

func TestSweepExpiredTokens(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) storage.Store{
		"memory":   func(t *testing.T) storage.Store { return authztest.NewMemoryStore(t) },
		"postgres": func(t *testing.T) storage.Store { return authztest.OpenPostgres(t, pgtest.NewDatabase(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := store(t)
			p := &Janitor{Store: s, Now: time.Now, Log: slog.New(slog.DiscardHandler)} // the stores judge expiry by the real clock
			id := "janitor-" + name + "-" + time.Now().Format("150405.000000000")
			must(t, s.CreateClient(ctx, testClient(id)))
			now := time.Now()
			rows := map[string]time.Time{
				"expired-long-ago": now.Add(-24 * time.Hour),
				"expired-just-now": now.Add(-10 * time.Second), // within the leeway: kept
				"live":             now.Add(time.Hour),
			}
			for sig, exp := range rows {
				must(t, s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + sig, RequestID: id,
					ClientID: id, Active: true, RequestedAt: now, ExpiresAt: exp, Data: []byte(`{}`)}))
			}
			n, err := p.SweepTokens(ctx)
			must(t, err)
			if n < 1 {
				t.Fatalf("swept %d rows, want at least the one expired a day ago", n)
			}
			if _, err := s.GetRequest(ctx, storage.KindAccessToken, id+"live"); err != nil {
				t.Fatalf("fail/live-row-swept: %v", err)
			}
			// The row expired a day ago is gone: creating it again works (a
			// leftover row would hold its key).
			err = s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + "expired-long-ago", RequestID: id,
				ClientID: id, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte(`{}`)})
			if errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatal("fail/expired-row-kept")
			}
			must(t, err)
			// Within the leeway the row stays (its key is still taken).
			err = s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + "expired-just-now", RequestID: id,
				ClientID: id, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte(`{}`)})
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatalf("fail/row-in-leeway-swept: %v", err)
			}
		})
	}
}

// TestJanitorSweepsExpiredFlowsAssertionIDsAndSessions: every table that
// grows with traffic is swept, not only the token table. An unfinished
// /authorize leaves a flow, every private_key_jwt authentication a JWT id,
// every login a browser session; past expiry (and the leeway) they go, live
// ones stay.
func TestJanitorSweepsExpiredFlowsAssertionIDsAndSessions(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) storage.Store{
		"memory":   func(t *testing.T) storage.Store { return authztest.NewMemoryStore(t) },
		"postgres": func(t *testing.T) storage.Store { return authztest.OpenPostgres(t, pgtest.NewDatabase(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := store(t)
			p := &Janitor{Store: s, Now: time.Now, Log: slog.New(slog.DiscardHandler)} // the stores judge expiry by the real clock
			id := "janitor-" + name + "-" + time.Now().Format("150405.000000000")
			must(t, s.CreateClient(ctx, testClient(id)))
			must(t, s.CreateUser(ctx, &storage.User{ID: id, Username: id, CreatedAt: time.Now(), UpdatedAt: time.Now()}))
			now := time.Now()
			old, live := now.Add(-24*time.Hour), now.Add(time.Hour)
			flow := func(key string, exp time.Time) *storage.AuthFlow {
				return &storage.AuthFlow{ID: id + key, ClientID: id, Form: []byte("response_type=code"), CreatedAt: now, ExpiresAt: exp}
			}
			session := func(key string, exp time.Time) *storage.BrowserSession {
				return &storage.BrowserSession{ID: id + key, UserID: id, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: exp}
			}
			for key, exp := range map[string]time.Time{"old": old, "live": live} {
				must(t, s.CreateAuthFlow(ctx, flow(key, exp)))
				must(t, s.UseJTI(ctx, id+key, exp))
				must(t, s.CreateBrowserSession(ctx, session(key, exp)))
			}

			removed, err := p.Sweep(ctx)
			must(t, err)
			for _, what := range []string{"auth_flows", "client_assertion_jtis", "browser_sessions"} {
				if removed[what] < 1 {
					t.Errorf("fail/%s-not-swept: removed %v", what, removed)
				}
			}
			// The expired rows are gone: their keys are free again.
			if err := s.CreateAuthFlow(ctx, flow("old", live)); err != nil {
				t.Errorf("fail/expired-flow-kept: %v", err)
			}
			if err := s.CreateBrowserSession(ctx, session("old", live)); err != nil {
				t.Errorf("fail/expired-session-kept: %v", err)
			}
			// The live rows stay.
			if _, err := s.GetAuthFlow(ctx, id+"live"); err != nil {
				t.Errorf("fail/live-flow-swept: %v", err)
			}
			if _, err := s.GetBrowserSession(ctx, id+"live"); err != nil {
				t.Errorf("fail/live-session-swept: %v", err)
			}
			if err := s.UseJTI(ctx, id+"live", live); !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("fail/live-jti-swept (a replay would pass): %v", err)
			}
		})
	}
}

// TestTokenJanitorRunsTheSweep: the janitor loop every node runs sweeps the
// expired flows at start (not only the token table).
func TestTokenJanitorRunsTheSweep(t *testing.T) {
	s := authztest.NewMemoryStore(t)
	p := &Janitor{Store: s, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	must(t, s.CreateClient(ctx, testClient("c1")))
	f := &storage.AuthFlow{ID: "f1", ClientID: "c1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(-time.Hour)}
	must(t, s.CreateAuthFlow(ctx, f))
	go func() { defer close(done); p.Run(ctx, time.Hour) }()
	eventually(t, 5*time.Second, "the expired flow is swept", func() bool {
		return !errors.Is(s.CreateAuthFlow(ctx, f), storage.ErrAlreadyExists)
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// testClient is a client the swept rows belong to.
func testClient(id string) *storage.Client {
	now := time.Now()
	return &storage.Client{ID: id, Name: "Client " + id, RedirectURIs: []string{"https://" + id + ".example/cb"},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, Scopes: []string{"openid"},
		CreatedAt: now, UpdatedAt: now}
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
