package interop

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// TestOauth4webapiTLSClientAuthWithPARAndPKCE: oauth4webapi completes PAR +
// PKCE with tls_client_auth (RFC 8705 §2.1) over real TLS, presenting a
// client certificate from the server's client CA at every endpoint (PAR,
// token, introspection, userinfo, refresh); the client asked for
// certificate-bound access tokens, so introspection reports cnf.x5t#S256 of
// its certificate, and userinfo refuses the token over a connection without
// a certificate and with another certificate of the same CA (401
// invalid_token); a refresh with the certificate gives a token userinfo
// accepts.
func TestOauth4webapiTLSClientAuthWithPARAndPKCE(t *testing.T) {
	t.Parallel()
	e := startTLS(t, func(c *server.Config, ca *testCA) {
		c.TLS = mtls.RequestClientCertificates(c.TLS, nil)
		c.ClientCAs = ca.pool()
	})
	subject := pkix.Name{CommonName: "partner-rp", Organization: []string{"Example Bank"}}
	in := e.codeClient("openid email offline_access", func(c *storage.Client) {
		c.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
		c.Metadata.TLSClientAuthSubjectDN = "CN=partner-rp,O=Example Bank"
		c.Metadata.TLSClientCertificateBoundAccessTokens = true
	})
	in["client_cert_pem"], in["client_key_pem"] = e.ca.clientCertificatePEM(t, subject)
	in["other_client_cert_pem"], in["other_client_key_pem"] = e.ca.clientCertificatePEM(t, pkix.Name{CommonName: "someone-else"})

	var r struct {
		codeFlowResult
		Thumbprint    string         `json:"certificate_thumbprint"`
		Introspection map[string]any `json:"introspection"`
		WithoutCert   *rpError       `json:"userinfo_without_certificate"`
		WithOtherCert *rpError       `json:"userinfo_with_other_certificate"`
		Refresh       *struct {
			TokenType   string `json:"token_type"`
			UserinfoSub string `json:"userinfo_sub"`
		} `json:"refresh"`
	}
	e.runRP(t, "tls-client-auth-par-pkce.mjs", in).result(t, &r)

	e.checkSignedIn(t, r.codeFlowResult, in["client_id"].(string))
	if !strings.EqualFold(r.TokenType, "bearer") {
		t.Errorf("token_type %q, want Bearer (certificate binding keeps the type)", r.TokenType)
	}
	cnf, _ := r.Introspection["cnf"].(map[string]any)
	if r.Introspection["active"] != true || r.Thumbprint == "" || cnf["x5t#S256"] != r.Thumbprint {
		t.Errorf("introspection %v: want an active token with cnf.x5t#S256 %s", r.Introspection, r.Thumbprint)
	}
	if !r.WithoutCert.is(401, "invalid_token") {
		t.Errorf("the bound token without a certificate: %s, want 401 invalid_token", r.WithoutCert)
	}
	if !r.WithOtherCert.is(401, "invalid_token") {
		t.Errorf("the bound token with another certificate: %s, want 401 invalid_token", r.WithOtherCert)
	}
	if r.Refresh == nil || r.Refresh.UserinfoSub != e.userID {
		t.Errorf("refresh with the certificate: %+v", r.Refresh)
	}
}
