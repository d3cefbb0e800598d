package e2e

import (
	"net/http"
	"testing"
)

// TestDemoAppOnlyInDevMode: the built-in demo relying party (a client with
// a known redirect and a session store in memory) is never served by a
// production server: /demo and its callback are 404 there.
func TestDemoAppOnlyInDevMode(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/demo", "/demo/login", "/demo/callback?code=x&state=y"} {
		resp, err := http.Get(e.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on a production server: %d, want 404", path, resp.StatusCode)
		}
	}
}
