package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// TestSignedMessageMetadataThroughTheAdminAPI registers and patches a FAPI
// 2.0 Message Signing client (issue 10's fields) through the validating
// transport (every exchange matches api/openapi.yaml); a patch that breaks
// the profile is a 400 problem.
func TestSignedMessageMetadataThroughTheAdminAPI(t *testing.T) {
	f := newFixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	app := `{"client_name":"Payments app","grant_types":["authorization_code"],"redirect_uris":["https://app.bank.example/cb"],
		"scope":"openid payments","token_endpoint_auth_method":"private_key_jwt","jwks":` + string(jwks) + `,
		"token_endpoint_auth_signing_alg":"ES256","id_token_signed_response_alg":"ES256",
		"require_pushed_authorization_requests":true,"dpop_bound_access_tokens":true,"profile":"fapi2-message-signing",
		"require_signed_request_object":true,"request_object_signing_alg":"ES256",
		"authorization_signed_response_alg":"ES256","introspection_signed_response_alg":"ES256"}`
	var created struct {
		Client registration.ClientInfo `json:"client"`
	}
	f.do(t, "POST", "/admin/v1/clients", app, 201, &created)
	got := created.Client
	if got.Profile != storage.ProfileFAPI2MessageSigning || !got.RequireSignedRequestObject || got.RequestObjectSigningAlg != "ES256" ||
		got.AuthorizationSignedResponseAlg != "ES256" || got.IntrospectionSignedResponseAlg != "ES256" {
		t.Fatalf("created %+v", got)
	}
	f.do(t, "PATCH", "/admin/v1/clients/"+got.ClientID, `{"require_signed_request_object":false}`, 400, nil)
	// PS256 needs an RSA key: the client registered only an EC key
	f.do(t, "PATCH", "/admin/v1/clients/"+got.ClientID, `{"request_object_signing_alg":"PS256"}`, 400, nil)
	var patched registration.ClientInfo
	f.do(t, "PATCH", "/admin/v1/clients/"+got.ClientID, `{"authorization_signed_response_alg":""}`, 200, &patched)
	if patched.AuthorizationSignedResponseAlg != "" || patched.IntrospectionSignedResponseAlg != "ES256" || patched.RequestObjectSigningAlg != "ES256" || !patched.RequireSignedRequestObject {
		t.Fatalf("patched %+v", patched)
	}
}
