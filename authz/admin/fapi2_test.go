package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// TestClientSecretJWTClientsGetADerivedSecret: a client_secret_jwt client
// gets a secret the server derives from its id under a key of the system
// secret (authz.SecretHasher.DeriveSecret), shown once; the store keeps
// only the random secret id and the keyed hash, as for every secret, and
// nothing in it equals or reveals the secret. Rotation derives a new one
// under a new id while the old one keeps its grace.
func TestClientSecretJWTClientsGetADerivedSecret(t *testing.T) {
	f := newAdminFixture(t)
	spec := partner()
	spec.TokenEndpointAuthMethod, spec.TokenEndpointAuthSigningAlg = storage.AuthMethodSecretJWT, "HS512"
	info, issued, err := f.admin.Create(t.Context(), operator, spec, admin.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if issued == nil || issued.SecretID == "" || len(issued.ClientSecret) != 86 || info.TokenEndpointAuthSigningAlg != "HS512" {
		t.Fatalf("client %+v, issued %+v", info, issued)
	}
	if got := f.hasher.DeriveSecret(info.ClientID, issued.SecretID); got != issued.ClientSecret {
		t.Fatal("the issued secret is not the one the server derives for its id")
	}
	stored, err := f.store.GetClient(t.Context(), info.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Secrets) != 1 || stored.Secrets[0].ID != issued.SecretID || stored.Secrets[0].ID == registration.SecretID(stored.Secrets[0].Hash) {
		t.Fatalf("stored secrets %+v: want one, under the random id %s", stored.Secrets, issued.SecretID)
	}
	if !f.hasher.DerivedSecretMatches(t.Context(), info.ClientID, issued.SecretID, stored.Secrets[0].Hash) || !f.authenticates(t, info.ClientID, issued.ClientSecret) {
		t.Fatal("the stored hash is not the derived secret's")
	}
	if dump := f.snapshot(t); strings.Contains(dump, issued.ClientSecret) || strings.Contains(dump, issued.ClientSecret[:20]) {
		t.Fatal("the store holds the secret")
	}
	// Under another system secret the same id derives another secret.
	other, err := authz.NewSecretHasher([]byte("another-system-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if other.DeriveSecret(info.ClientID, issued.SecretID) == issued.ClientSecret {
		t.Fatal("the derived secret does not depend on the system secret")
	}

	rotated, err := f.admin.RotateSecret(t.Context(), operator, info.ClientID, admin.RotateOptions{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.SecretID == issued.SecretID || rotated.ClientSecret != f.hasher.DeriveSecret(info.ClientID, rotated.SecretID) || rotated.PreviousSecretID != issued.SecretID {
		t.Fatalf("rotation issued %+v after %+v", rotated, issued)
	}
	if !f.authenticates(t, info.ClientID, issued.ClientSecret) || !f.authenticates(t, info.ClientID, rotated.ClientSecret) {
		t.Fatal("both secrets must be live during the grace period")
	}
}

// TestClientSecretJWTNeedsADerivedSecret: a secret the server did not
// derive (imported as plain text, or generated at random for
// client_secret_basic) can never check a client_secret_jwt assertion, so
// importing one for client_secret_jwt, or moving a client that holds one to
// client_secret_jwt, is refused with a message that says what to do; with
// its secrets revoked the client may move, and rotation then derives one.
func TestClientSecretJWTNeedsADerivedSecret(t *testing.T) {
	f := newAdminFixture(t)
	spec := partner()
	spec.TokenEndpointAuthMethod = storage.AuthMethodSecretJWT
	spec.ClientSecret = strings.Repeat("k", 40)
	before := f.snapshot(t)
	_, err := f.admin.Import(t.Context(), operator, []registration.ClientSpec{spec}, nil)
	var verr *registration.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || !strings.Contains(verr.Problems[0], "client_secret cannot be imported for client_secret_jwt") ||
		!strings.Contains(verr.Problems[0], "import without client_secret") {
		t.Fatalf("import with a plain secret: %v", err)
	}
	if f.snapshot(t) != before {
		t.Fatal("a refused import wrote something")
	}
	spec.ClientSecret = ""
	res, err := f.admin.Import(t.Context(), operator, []registration.ClientSpec{spec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := res[0].Secret; s == nil || s.ClientSecret != f.hasher.DeriveSecret(res[0].ClientID, s.SecretID) {
		t.Fatalf("import without a secret issued %+v", s)
	}

	basic, _ := f.create(t, partner())
	before, events := f.snapshot(t), len(f.audit(t))
	_, err = f.admin.Update(t.Context(), operator, basic.ClientID, []byte(`{"token_endpoint_auth_method":"client_secret_jwt"}`))
	if !errors.As(err, &verr) || len(verr.Problems) != 1 || !strings.Contains(verr.Problems[0], "client_secret_jwt needs a secret the server derives") {
		t.Fatalf("moving a client_secret_basic client to client_secret_jwt: %v", err)
	}
	if f.snapshot(t) != before || len(f.audit(t)) != events {
		t.Fatal("a refused update changed something")
	}
	if _, err := f.admin.RevokeSecret(t.Context(), operator, basic.ClientID, basic.Secrets[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.Update(t.Context(), operator, basic.ClientID, []byte(`{"token_endpoint_auth_method":"client_secret_jwt"}`)); err != nil {
		t.Fatal(err)
	}
	issued, err := f.admin.RotateSecret(t.Context(), operator, basic.ClientID, admin.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if issued.ClientSecret != f.hasher.DeriveSecret(basic.ClientID, issued.SecretID) {
		t.Fatal("rotation of a client_secret_jwt client did not derive its secret")
	}
	// Back to client_secret_basic: the derived secret keeps working there.
	if _, err := f.admin.Update(t.Context(), operator, basic.ClientID, []byte(`{"token_endpoint_auth_method":"client_secret_basic"}`)); err != nil || !f.authenticates(t, basic.ClientID, issued.ClientSecret) {
		t.Fatalf("back to client_secret_basic: %v", err)
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
