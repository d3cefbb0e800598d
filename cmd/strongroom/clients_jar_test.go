package main

import (
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage"
)

// TestClientsSignedRequestsAndResponsesFlags: clients create and update
// set the signed-message metadata (RFC 9101, JARM, RFC 9701) and the
// fapi2-message-signing profile; its unmet rules are usage errors that
// name the flags.
func TestClientsSignedRequestsAndResponsesFlags(t *testing.T) {
	e := newEnv(t)
	jwks := writeJWKS(t, false)
	args := append(bankApp(jwks), "--profile", "fapi2-message-signing", "--require-signed-request-object",
		"--request-object-signing-alg", "ES256", "--authorization-signed-response-alg", "ES256", "-o", "json")
	bank := createdID(t, mustRun(t, e, "", args...))
	info := getClientJSON(t, e, bank)
	if info.Profile != storage.ProfileFAPI2MessageSigning || !info.RequireSignedRequestObject ||
		info.RequestObjectSigningAlg != "ES256" || info.AuthorizationSignedResponseAlg != "ES256" {
		t.Fatalf("message signing client %+v", info)
	}
	text := mustRun(t, e, "", "clients", "get", bank).out
	for _, want := range []string{"Require signed request object:", "Request object algorithm:", "JARM response algorithm:"} {
		if !strings.Contains(text, want) {
			t.Errorf("clients get lacks %q:\n%s", want, text)
		}
	}
	wantFail(t, run(t, e, "", "clients", "update", bank, "--require-signed-request-object=false"), exitUsage,
		"--profile fapi2: --require-signed-request-object (require_signed_request_object) must be true")
	wantFail(t, run(t, e, "", "clients", "update", bank, "--request-object-signing-alg", "RS256"), exitUsage,
		`--profile fapi2: --request-object-signing-alg (request_object_signing_alg) "RS256" is not allowed`)
	mustRun(t, e, "", "clients", "update", bank, "--introspection-signed-response-alg", "ES256")
	if got := getClientJSON(t, e, bank); got.IntrospectionSignedResponseAlg != "ES256" || !got.RequireSignedRequestObject {
		t.Fatalf("after update %+v", got)
	}
}
