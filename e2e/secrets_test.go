package e2e

import (
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
	if got := e.tokenStatus(id, oldSecret, "payments"); got != http.StatusOK {
		t.Fatalf("before rotation: %d", got)
	}

	const grace = 5 * time.Second
	var issued authzadmin.IssuedSecret
	adm.do("POST", "/admin/v1/clients/"+id+"/secrets", `{"grace":"5s"}`, 201, &issued)
	graceEnds := *issued.PreviousExpiresAt
	if d := time.Until(graceEnds); d <= 0 || d > grace {
		t.Fatalf("grace ends in %s", d)
	}

	// During the grace: both.
	for _, s := range []string{oldSecret, issued.ClientSecret} {
		if got := e.tokenStatus(id, s, "payments"); got != http.StatusOK {
			if time.Now().After(graceEnds) {
				t.Skip("the machine was too slow to test within a 5 s grace")
			}
			t.Fatalf("during the grace: %d", got)
		}
	}
	var info registration.ClientInfo
	adm.do("GET", "/admin/v1/clients/"+id, "", 200, &info)
	if !info.SecretsExpiringSoon || len(info.Secrets) != 2 {
		t.Fatalf("during the grace: %+v", info)
	}

	// After it: only the new one, on this node and on a peer.
	time.Sleep(time.Until(graceEnds) + 100*time.Millisecond)
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
