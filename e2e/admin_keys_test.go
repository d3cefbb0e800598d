package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
)

// Signing keys through the admin API of a real server on PostgreSQL: the
// JWKS follows a forced rotation and a revocation, refusals are problems
// per api/openapi.yaml, and the audit trail names the admin client.
func TestAdminAPIKeys(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var list []keys.KeyInfo
	adm.do("GET", "/admin/v1/keys", "", 200, &list)
	if len(list) != 2 {
		t.Fatalf("keys %+v", list)
	}
	oldRS, _ := e.srv.Keys.ActiveKID(keys.RS256)

	var rot []admin.KeyRotation
	adm.do("POST", "/admin/v1/keys/rotate", `{"alg":"RS256","force":true}`, 200, &rot)
	if len(rot) != 1 || rot[0].Retired != oldRS || rot[0].Activated == "" {
		t.Fatalf("rotation %+v", rot)
	}
	waitEveryNode(t, []*env{e}, time.Now(), "signs with the rotated key", func(n *env) bool {
		kid, _ := n.srv.Keys.ActiveKID(keys.RS256)
		return kid == rot[0].Activated
	})
	var rev admin.KeyRevocation
	adm.do("POST", "/admin/v1/keys/"+oldRS+"/revoke", "", 200, &rev)
	waitEveryNode(t, []*env{e}, time.Now(), "withdraws the revoked key", func(n *env) bool {
		kids, _ := jwks(t, n.issuer)
		return !slices.Contains(kids, oldRS) && slices.Contains(kids, rot[0].Activated)
	})

	var p admin.Problem
	adm.do("POST", "/admin/v1/keys/no-such-kid/revoke", "", 404, &p)
	if p.Type != admin.TypeNotFound {
		t.Errorf("unknown kid: %+v", p)
	}
	adm.do("POST", "/admin/v1/keys/rotate", `{"alg":"RS256"}`, 200, &rot) // publishes a next key
	adm.do("POST", "/admin/v1/keys/rotate", `{"alg":"RS256"}`, 409, &p)   // which may not sign yet
	if p.Type != admin.TypeKeyNotReady {
		t.Errorf("next key not ready: %+v", p)
	}

	var events []authzadmin.AuditEvent
	adm.do("GET", "/admin/v1/audit-events?target="+oldRS, "", 200, &events)
	if len(events) != 1 || events[0].Action != keys.ActionRevoke || events[0].Actor[:7] != "client:" || events[0].SourceIP != "127.0.0.1" {
		t.Fatalf("audit %+v", events)
	}
}

// A user's grant and sessions through the admin API: revoking the grant
// revokes the client's tokens (the refresh token stops working), ending the
// sessions queues back-channel logout.
func TestAdminAPIGrantsAndSessions(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	c := webClient("authorization_code", "refresh_token")
	c.Metadata.BackchannelLogoutURI = "https://app.example.test/backchannel"
	secret := e.createClient(c)
	_, tok := e.codeFlowTokens(t, c, secret, true)

	var grants []authz.GrantInfo
	adm.do("GET", "/admin/v1/users/alice/grants", "", 200, &grants)
	if len(grants) != 1 || grants[0].ClientID != c.ID {
		t.Fatalf("grants %+v", grants)
	}
	var sessions []admin.Session
	adm.do("GET", "/admin/v1/users/alice/sessions", "", 200, &sessions)
	if len(sessions) != 1 || !slices.Contains(sessions[0].Clients, c.ID) {
		t.Fatalf("sessions %+v", sessions)
	}

	var rev admin.GrantRevocation
	adm.do("DELETE", "/admin/v1/users/alice/grants/"+c.ID, "", 200, &rev)
	if rev.TokensRevoked < 2 {
		t.Fatalf("revocation %+v", rev)
	}
	if status, body := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, secret); status == http.StatusOK {
		t.Fatalf("the refresh token still works after its grant was revoked: %v", body)
	}
	status, body := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret)
	if status != http.StatusOK || body["active"] != false {
		t.Fatalf("introspection after revocation: %d %v", status, body)
	}

	var ended admin.SessionsEnded
	adm.do("DELETE", "/admin/v1/users/"+e.userID+"/sessions", "", 200, &ended)
	if ended.Ended != 1 {
		t.Fatalf("ended %+v", ended)
	}
	var events []authzadmin.AuditEvent
	adm.do("GET", "/admin/v1/audit-events?action=session.end", "", 200, &events)
	if len(events) != 1 || events[0].Details["backchannel_queued"] != "1" || events[0].Actor[:7] != "client:" {
		t.Fatalf("audit %+v", events)
	}
	var p admin.Problem
	adm.do("GET", "/admin/v1/users/nobody/sessions", "", 404, &p)
	adm.do("DELETE", "/admin/v1/users/alice/grants/"+c.ID, "", 404, &p)
}

// A server running with the new KEK and the previous one keeps loading the
// signing keys across `keys rewrap` without a restart; one with the old KEK
// only cannot load them afterwards (the reason for the previous KEK).
func TestRewrapWithoutRestart(t *testing.T) {
	ctx := context.Background()
	var cfg server.Config
	old := servertest.Start(t, func(c *server.Config) { cfg = *c })
	oldKEK := cfg.KEK
	newKEK := make([]byte, keys.KEKSize)
	_, _ = rand.Read(newKEK)

	// A node that runs with the new KEK alone refuses to start: it cannot
	// open the keys.
	bad := cfg
	bad.KEK = newKEK
	bad.Authz.Issuer = old.Issuer
	if srv, err := server.New(ctx, bad, slog.New(slog.DiscardHandler)); err == nil || !errors.Is(err, keys.ErrDecrypt) {
		if srv != nil {
			srv.Close()
		}
		t.Fatalf("new KEK alone: %v", err)
	}

	both := cfg
	both.KEK, both.PreviousKEK = newKEK, oldKEK
	both.Authz.Issuer = old.Issuer
	node := startNode(t, both)

	// It rotates before the rewrap: its fresh key is under the new KEK.
	if _, err := node.Keys.Rotate(ctx, keys.ES256, keys.RotateOptions{Force: true, Origin: e2eOperator}); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Server.Keys.Rewrap(ctx, oldKEK, newKEK, e2eOperator, nil); err != nil {
		t.Fatal(err)
	}
	if err := node.Keys.Reload(ctx); err != nil {
		t.Fatalf("node with new+previous KEK after rewrap: %v", err)
	}
	if _, err := node.Keys.Rotate(ctx, keys.RS256, keys.RotateOptions{Force: true, Origin: e2eOperator}); err != nil {
		t.Fatalf("rotation after rewrap: %v", err)
	}
	if err := node.Keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.Server.Keys.Reload(ctx); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("old-KEK node after rewrap: %v", err)
	}
	// Every key now opens under the new KEK alone: the previous one can go.
	only := cfg
	only.KEK = newKEK
	only.Authz.Issuer = old.Issuer
	startNode(t, only)
}

// startNode starts a server with cfg on a loopback listener until t ends.
func startNode(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("start node: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return srv
}
