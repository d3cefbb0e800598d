package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// revokeAnswer posts a revocation as client id and returns the whole answer:
// status, body and headers (without Date and X-Request-Id, which differ on
// every request).
func revokeAnswer(t *testing.T, issuer, id, secret string, form url.Values) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+authz.PathRevoke, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	resp.Header.Del("Date")
	resp.Header.Del("X-Request-Id")
	return resp.StatusCode, string(body), resp.Header
}

// TestRevokingAnotherClientsTokenIsIndistinguishableFromAnUnknownToken:
// RFC 7009 §2.1 lets a client revoke only its own tokens. A client that
// presents another client's access or refresh token (with or without a
// token_type_hint) gets exactly the answer an unknown string gets (200, same
// body and headers), so revocation is no oracle for which strings are live
// tokens; and the token is not revoked: its owner still introspects it
// active and still refreshes with it.
func TestRevokingAnotherClientsTokenIsIndistinguishableFromAnUnknownToken(t *testing.T) {
	e := start(t)
	app := webClient("authorization_code", "refresh_token")
	appSecret := e.createClient(app)
	other := webClient("client_credentials")
	otherSecret := e.createClient(other)
	_, user := e.codeFlowTokens(t, app, appSecret, true)
	if user.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	appCC := webClient("client_credentials")
	appCCSecret := e.createClient(appCC)
	machine := e.token(appCC.ID, appCCSecret, "payments")

	unknownStatus, unknownBody, unknownHeader := revokeAnswer(t, e.issuer, other.ID, otherSecret, url.Values{"token": {"ory_at_unknown.token"}})
	if unknownStatus != http.StatusOK {
		t.Fatalf("revoking an unknown token: %d %s", unknownStatus, unknownBody)
	}
	for name, token := range map[string]string{"user access token": user.AccessToken, "user refresh token": user.RefreshToken, "client_credentials token": machine} {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			form := url.Values{"token": {token}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			status, body, header := revokeAnswer(t, e.issuer, other.ID, otherSecret, form)
			if status != unknownStatus || body != unknownBody || mustJSON(t, header) != mustJSON(t, unknownHeader) {
				t.Errorf("another client's %s (hint %q) is distinguishable from an unknown token:\n%d %q %v\n%d %q %v",
					name, hint, status, body, header, unknownStatus, unknownBody, unknownHeader)
			}
		}
	}
	// nothing was revoked
	active := func(id, secret, token string) any {
		_, m := postForm(t, e.issuer+authz.PathIntrospect, url.Values{"token": {token}}, id, secret)
		return m["active"]
	}
	if active(app.ID, appSecret, user.AccessToken) != true || active(app.ID, appSecret, user.RefreshToken) != true {
		t.Fatal("another client's revocation request revoked the user's tokens")
	}
	if active(appCC.ID, appCCSecret, machine) != true {
		t.Fatal("another client's revocation request revoked a client_credentials token")
	}
	if code, m := postForm(t, e.issuer+authz.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {user.RefreshToken}}, app.ID, appSecret); code != http.StatusOK {
		t.Fatalf("the owner cannot refresh after another client's revocation request: %d %v", code, m)
	}
	// the owner still revokes its own token
	if status, body, _ := revokeAnswer(t, e.issuer, appCC.ID, appCCSecret, url.Values{"token": {machine}}); status != http.StatusOK {
		t.Fatalf("the owner's revocation: %d %s", status, body)
	}
	if active(appCC.ID, appCCSecret, machine) != false {
		t.Fatal("the owner's revocation left its token active")
	}
}
