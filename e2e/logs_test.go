package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestLogsCarryNoSecrets runs every flow, then reads the server's log: one
// structured line per request with request id, client id, status and duration,
// and never a password, client secret, code or whole token.
func TestLogsCarryNoSecrets(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token", "client_credentials")
	secret := e.createClient(c)
	conf, tok := e.codeFlowTokens(t, c, secret, true)
	next, err := conf.TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	_, cc := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret)
	postForm(t, e.issuer+"/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}, c.ID, secret)
	// failures too: wrong secret, wrong password
	postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, "wrong-"+secret)
	b := newBrowser(t)
	_, body := b.get(conf.AuthCodeURL("s-"+randString(), oauthS256(t)))
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", "WRONG-"+testPassword)
	b.post(e.issuer+"/login", f)

	logs := e.Logs()
	secrets := map[string]string{
		"password": testPassword, "client secret": secret, "access token": tok.AccessToken,
		"refresh token": tok.RefreshToken, "new refresh token": next.RefreshToken, "cc token": cc["access_token"].(string),
	}
	for name, v := range secrets {
		if v == "" {
			continue
		}
		if strings.Contains(logs, v) {
			t.Errorf("the log contains the %s", name)
		}
		// nor a large part of it (e.g. a token's signature half)
		if len(v) > 24 && strings.Contains(logs, v[len(v)-24:]) {
			t.Errorf("the log contains the tail of the %s", name)
		}
	}
	requests := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if line["msg"] != "request" {
			continue
		}
		requests++
		for _, k := range []string{"request_id", "method", "path", "status", "duration", "client_id"} {
			if _, ok := line[k]; !ok {
				t.Errorf("request line lacks %s: %s", k, sc.Text())
			}
		}
		if p, _ := line["path"].(string); strings.Contains(p, "?") {
			t.Errorf("request line logs a query string: %s", p)
		}
		if p, _ := line["path"].(string); p == "/oauth2/token" && line["client_id"] != c.ID {
			t.Errorf("token request line without the client id: %s", sc.Text())
		}
	}
	if requests < 10 {
		t.Errorf("only %d request lines logged", requests)
	}
}
