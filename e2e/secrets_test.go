package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

// A partner rotates its client secret with a grace period through the
// admin API: during the grace both secrets get tokens at /oauth2/token,
// after it only the new one does.
func TestPartnerSecretRotationWithGrace(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()

	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments"}`, 201, &created)
	id, oldSecret := created.Client.ClientID, created.Secret.ClientSecret
	// The grace must outlast the checks made during it: rather than a fixed
	// grace that a slow machine overruns, it is sized from this run, ten
	// times what the same kind of work (a token request and an admin read)
	// takes here, and at least 2 s.
	floorStart := time.Now()
	if got := e.tokenStatus(id, oldSecret, "payments"); got != http.StatusOK {
		t.Fatalf("before rotation: %d", got)
	}
	adm.do("GET", "/admin/v1/clients/"+id, "", 200, nil)
	floor := time.Since(floorStart)
	grace := max(2*time.Second, 10*floor).Round(time.Millisecond)

	var issued authzadmin.IssuedSecret
	rotating := time.Now()
	adm.do("POST", "/admin/v1/clients/"+id+"/secrets", fmt.Sprintf(`{"grace":%q}`, grace), 201, &issued)
	graceEnds := *issued.PreviousExpiresAt
	if d := time.Until(graceEnds); d <= 0 || d > grace || graceEnds.Before(rotating.Add(grace-time.Millisecond)) {
		t.Fatalf("grace of %v, asked for %v ago, ends in %s", grace, time.Since(rotating), d)
	}

	// During the grace: both. The old secret is accepted at every check; the
	// new one as soon as this node's client cache hears of the rotation (a
	// LISTEN/NOTIFY round trip: a few milliseconds, at most a second).
	oldAccepted := func(when string) {
		t.Helper()
		if got := e.tokenStatus(id, oldSecret, "payments"); got != http.StatusOK {
			t.Fatalf("old secret %s: %d (%v since the rotation; grace %v, ten times the %v floor)",
				when, got, time.Since(rotating), grace, floor)
		}
	}
	oldAccepted("right after the rotation")
	eventually(t, time.Second, "the new secret to be accepted", func() bool {
		return e.tokenStatus(id, issued.ClientSecret, "payments") == http.StatusOK
	})
	oldAccepted("once the new secret works")
	var info registration.ClientInfo
	adm.do("GET", "/admin/v1/clients/"+id, "", 200, &info)
	if !info.SecretsExpiringSoon || len(info.Secrets) != 2 {
		t.Fatalf("during the grace: %+v", info)
	}

	// At its end the old secret stops: every answer that arrives before the
	// grace ends must accept it, and it must be refused by 100 ms after.
	eventually(t, time.Until(graceEnds)+100*time.Millisecond, "the old secret to be refused after the grace", func() bool {
		got := e.tokenStatus(id, oldSecret, "payments")
		if got != http.StatusOK && time.Now().Before(graceEnds) {
			t.Fatalf("old secret refused %v before its grace ends: %d", time.Until(graceEnds), got)
		}
		return got == http.StatusUnauthorized
	})
	// After it: only the new one, on this node and on a peer.
	pe := e.StartPeer(t)
	peer := &env{Env: pe, t: t, srv: pe.Server, issuer: pe.Issuer}
	for _, node := range []*env{e, peer} {
		if got := node.tokenStatus(id, oldSecret, "payments"); got != http.StatusUnauthorized {
			t.Fatalf("old secret after the grace: %d, want 401", got)
		}
		if got := node.tokenStatus(id, issued.ClientSecret, "payments"); got != http.StatusOK {
			t.Fatalf("new secret after the grace: %d", got)
		}
	}

	// The audit trail has the rotation, by the operator client, without secrets.
	var events []authzadmin.AuditEvent
	adm.do("GET", "/admin/v1/audit-events?action=client.secret.rotate&target="+id, "", 200, &events)
	if len(events) != 1 || events[0].Details["previous_secret_id"] != issued.PreviousSecretID || events[0].Actor == "" {
		t.Fatalf("audit %+v", events)
	}
}

// The same rotation through the CLI's remote mode is covered by
// cmd/strongroom TestRemoteMode; revoke-secret ends the old secret at once.
func TestRevokeSecretEndsItNow(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	var created createdClient
	adm.do("POST", "/admin/v1/clients", `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments"}`, 201, &created)
	id, oldSecret := created.Client.ClientID, created.Secret.ClientSecret
	var issued authzadmin.IssuedSecret
	adm.do("POST", "/admin/v1/clients/"+id+"/secrets", `{"grace":"24h"}`, 201, &issued)
	adm.do("DELETE", "/admin/v1/clients/"+id+"/secrets/"+issued.PreviousSecretID, "", 200, nil)
	if got := e.tokenStatus(id, oldSecret, "payments"); got != http.StatusUnauthorized {
		t.Fatalf("revoked secret: %d", got)
	}
	if got := e.tokenStatus(id, issued.ClientSecret, "payments"); got != http.StatusOK {
		t.Fatalf("new secret: %d", got)
	}
}
