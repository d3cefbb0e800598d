package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
)

// hstsProbe sends one request of each kind the public listener answers
// (page, OAuth error, JSON document, 404, the listener's own 414 and 431
// refusals) to base and returns each answer's Strict-Transport-Security.
func hstsProbe(t *testing.T, base string) map[string]string {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values, header http.Header) (int, string) {
		t.Helper()
		var req *http.Request
		if form != nil {
			req, _ = http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, base+path, nil)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Strict-Transport-Security")
	}
	got := map[string]string{}
	for name, tc := range map[string]struct {
		method, path string
		form         url.Values
		header       http.Header
		want         int
	}{
		"discovery":          {http.MethodGet, authz.PathOIDCDiscovery, nil, nil, http.StatusOK},
		"jwks":               {http.MethodGet, authz.PathJWKS, nil, nil, http.StatusOK},
		"healthz":            {http.MethodGet, "/healthz", nil, nil, http.StatusOK},
		"login page":         {http.MethodGet, "/login", nil, nil, 0},
		"authorize error":    {http.MethodGet, authz.PathAuthorize + "?client_id=nobody&response_type=code", nil, nil, http.StatusUnauthorized},
		"token 401":          {http.MethodPost, authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, nil, http.StatusUnauthorized},
		"not found":          {http.MethodGet, "/no-such-path", nil, nil, http.StatusNotFound},
		"request target 414": {http.MethodGet, "/healthz?pad=" + strings.Repeat("a", server.MaxRequestURIBytes), nil, nil, http.StatusRequestURITooLong},
		"header fields 431":  {http.MethodGet, "/healthz", nil, http.Header{"X-Pad": {strings.Repeat("a", server.MaxHeaderBytes)}}, http.StatusRequestHeaderFieldsTooLarge},
	} {
		status, hsts := do(tc.method, tc.path, tc.form, tc.header)
		if tc.want != 0 && status != tc.want {
			t.Errorf("%s: status %d, want %d", name, status, tc.want)
		}
		got[name] = hsts
	}
	return got
}

// TestHSTSOnEveryResponseWhenTheIssuerIsHTTPS: with an https issuer (here
// behind a TLS-terminating proxy, the listener itself plain HTTP) every
// answer of the public listener carries Strict-Transport-Security, errors
// and the listener's own 414/431 refusals included, so a browser never
// falls back to clear text for the issuer's host; a development server with
// an http issuer sends none.
func TestHSTSOnEveryResponseWhenTheIssuerIsHTTPS(t *testing.T) {
	secure := startWith(t, func(c *server.Config) { c.Authz.Issuer = servertest.BehindTLSProxy })
	for name, hsts := range hstsProbe(t, secure.Addr) {
		if hsts != httpmw.HSTS {
			t.Errorf("https issuer, %s: Strict-Transport-Security %q, want %q", name, hsts, httpmw.HSTS)
		}
	}
	plain := start(t)
	for name, hsts := range hstsProbe(t, plain.Addr) {
		if hsts != "" {
			t.Errorf("http issuer, %s: Strict-Transport-Security %q, want none", name, hsts)
		}
	}
}
