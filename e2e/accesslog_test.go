package e2e

import (
	"bufio"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestAccessLogNamesOAuthErrorAndRoute: a refused token request is logged
// with its route, the caller's address and the OAuth error code it got, so
// an operator can count invalid_client per route without reading bodies.
func TestAccessLogNamesOAuthErrorAndRoute(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials")
	e.createClient(c)
	code, _ := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, "wrong-secret")
	if code != 401 {
		t.Fatalf("wrong secret: %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(e.Logs()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil || line["msg"] != "request" || line["path"] != "/oauth2/token" {
			continue
		}
		if line["route"] != "/oauth2/token" || line["oauth_error"] != "invalid_client" || line["remote_addr"] != "127.0.0.1" {
			t.Fatalf("access-log line %s", sc.Text())
		}
		return
	}
	t.Fatalf("no access-log line for the token request:\n%s", e.Logs())
}
