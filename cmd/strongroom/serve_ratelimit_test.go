package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeRateLimitFlags: serve's --rate-limit-client (and burst) reach
// the token endpoint: with 2/m and a burst of 2 the demo client's third
// token request is 429 with Retry-After and the RateLimit headers; the
// start log names the limits; a malformed rate is a usage error naming the
// flag, from the command line or from STRONGROOM_RATE_LIMIT_ADDRESS.
func TestServeRateLimitFlags(t *testing.T) {
	s, d := startDev(t, "--rate-limit-client", "2/m", "--rate-limit-client-burst", "2", "--rate-limit-address", "off")
	token := func() *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.issuer+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(d.confID, d.confSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 2 {
		if resp := token(); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Policy") != `"client";q=2;w=60` {
			t.Fatalf("token %d: %d %q", i+1, resp.StatusCode, resp.Header.Get("RateLimit-Policy"))
		}
	}
	if resp := token(); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("3rd token: %d %v", resp.StatusCode, resp.Header)
	}
	if log := s.log.String(); !strings.Contains(log, "rate_limit_client=2/m") || !strings.Contains(log, "rate_limit_address=off") {
		t.Errorf("start log does not name the limits:\n%s", log)
	}

	wantFail(t, run(t, env{}, "", "serve", "--dev", "--listen", "127.0.0.1:0", "--rate-limit-client", "5/day"), exitUsage, "--rate-limit-client")
	wantFail(t, run(t, env{}, "", "serve", "--dev", "--listen", "127.0.0.1:0", "--rate-limit-address-burst", "-1"), exitUsage, "--rate-limit-address-burst must not be negative")
	wantFail(t, run(t, env{"STRONGROOM_RATE_LIMIT_ADDRESS": "lots"}, "", "serve", "--dev", "--listen", "127.0.0.1:0"), exitUsage, "--rate-limit-address")
}
