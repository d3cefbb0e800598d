package api

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestRateLimitKeysTheClaimedClient: the per-client limit is keyed by the
// client a request names before authentication: the Basic user name, the
// client_id parameter, else a client assertion whose iss and sub agree
// (RFC 7523 §3), read unverified; anything else names no client.
func TestRateLimitKeysTheClaimedClient(t *testing.T) {
	assertion := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"ES256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
	}
	for name, tc := range map[string]struct {
		form  url.Values
		basic string
		want  string
	}{
		"ok/basic":             {form: url.Values{}, basic: "from-basic", want: "from-basic"},
		"ok/client-id":         {form: url.Values{"client_id": {"from-form"}}, want: "from-form"},
		"ok/assertion":         {form: url.Values{"client_assertion": {assertion(`{"iss":"signer","sub":"signer"}`)}}, want: "signer"},
		"fail/iss-not-sub":     {form: url.Values{"client_assertion": {assertion(`{"iss":"a","sub":"b"}`)}}, want: ""},
		"fail/not-a-jwt":       {form: url.Values{"client_assertion": {"garbage"}}, want: ""},
		"fail/payload-not-b64": {form: url.Values{"client_assertion": {"a.!!!.c"}}, want: ""},
		"fail/nothing":         {form: url.Values{}, want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basic != "" {
				r.SetBasicAuth(tc.basic, "secret")
			}
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			if got := claimedClient(r); got != tc.want {
				t.Fatalf("claimedClient = %q, want %q", got, tc.want)
			}
		})
	}
}
