package admin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// TestClientSecretJWTClientsRefused: the admin service creates no
// client_secret_jwt client (it could never authenticate) and issues no
// secret; the error says why and what to use instead.
func TestClientSecretJWTClientsRefused(t *testing.T) {
	f := newAdminFixture(t)
	spec := partner()
	spec.TokenEndpointAuthMethod, spec.TokenEndpointAuthSigningAlg = storage.AuthMethodSecretJWT, "HS256"
	info, issued, err := f.admin.Create(t.Context(), operator, spec, admin.CreateOptions{})
	var verr *registration.ValidationError
	if !errors.As(err, &verr) || info != nil || issued != nil {
		t.Fatalf("client_secret_jwt client %+v, issued %v, err %v", info, issued, err)
	}
	if !strings.Contains(err.Error(), "client_secret_jwt is not supported") || !strings.Contains(err.Error(), "use private_key_jwt") {
		t.Errorf("error %q", err)
	}
	if clients, err := f.store.ListClients(t.Context()); err != nil || len(clients) != 0 {
		t.Fatalf("stored %d clients (%v)", len(clients), err)
	}
}

func TestTLSClientAuthClientsGetNoSecret(t *testing.T) {
	f := newAdminFixture(t)
	spec := partner()
	spec.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
	spec.Identity = mtls.Identity{SANDNS: "partner.example"}
	spec.TLSClientCertificateBoundAccessTokens = true
	info, secret := f.create(t, spec)
	if secret != "" || len(info.Secrets) != 0 || info.SANDNS != "partner.example" || !info.TLSClientCertificateBoundAccessTokens {
		t.Fatalf("tls_client_auth client %+v, secret issued: %v", info, secret != "")
	}
}

func TestUpdateToMTLSAndFAPI2(t *testing.T) {
	f := newAdminFixture(t)
	info, _ := f.create(t, webApp())

	// The FAPI 2.0 profile on a client_secret_post client: refused with every rule it breaks.
	before, events := f.snapshot(t), len(f.audit(t))
	_, err := f.admin.Update(t.Context(), operator, info.ClientID, []byte(`{"profile":"fapi2"}`))
	var ve *registration.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 4 {
		t.Fatalf("err = %v, want 4 problems (PAR, sender-constrained, auth method, ID token alg)", err)
	}
	if f.snapshot(t) != before || len(f.audit(t)) != events {
		t.Fatal("a refused update changed something")
	}

	// Moving to tls_client_auth and the profile, all at once: the secret goes.
	got, err := f.admin.Update(t.Context(), operator, info.ClientID, []byte(`{"profile":"fapi2","token_endpoint_auth_method":"tls_client_auth",
		"tls_client_auth_subject_dn":"CN=web,O=Example","require_pushed_authorization_requests":true,
		"dpop_bound_access_tokens":true,"id_token_signed_response_alg":"ES256"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Secrets) != 0 || got.Profile != storage.ProfileFAPI2 || got.SubjectDN != "CN=web,O=Example" || !got.DPoPBoundAccessTokens {
		t.Fatalf("updated %+v", got)
	}
	if ev := f.audit(t)[0]; ev.Action != admin.ActionClientUpdate || !strings.Contains(ev.Details["fields"], "tls_client_auth_subject_dn") {
		t.Fatalf("audit %+v", ev)
	}
	stored, err := f.store.GetClient(t.Context(), info.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if id := registration.TLSClientAuthIdentity(stored); id != (mtls.Identity{SubjectDN: "CN=web,O=Example"}) {
		t.Fatalf("stored identity %+v", id)
	}
}
