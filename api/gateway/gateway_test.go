package gateway

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// TestOriginalRequestFromEachGatewayConvention: nginx (X-Original-*),
// Traefik (X-Forwarded-*) and Envoy (its own method and path after
// /gateway/check) all name the original request; a header sent twice or
// with a list, an unknown scheme, a bad method or host, or no URI at all
// is 400 invalid_request.
func TestOriginalRequestFromEachGatewayConvention(t *testing.T) {
	req := func(method, target string, h map[string][]string) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		r.Host = "api.example"
		for k, vs := range h {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		return r
	}
	ok := map[string]struct {
		r                          *http.Request
		method, scheme, host, path string
	}{
		"ok/nginx": {req("GET", "/gateway/check", map[string][]string{"X-Original-Method": {"POST"}, "X-Original-Uri": {"/payments/1?x=1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"API.example.com"}}),
			"POST", "https", "api.example.com", "/payments/1"},
		"ok/traefik": {req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Method": {"DELETE"}, "X-Forwarded-Uri": {"/a%20b/"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"api.example:8080"}}),
			"DELETE", "http", "api.example:8080", "/a%20b/"},
		"ok/envoy": {req("PUT", "/gateway/check/accounts/7?q=1", map[string][]string{"X-Forwarded-Proto": {"https"}}),
			"PUT", "https", "api.example", "/accounts/7"},
	}
	for name, c := range ok {
		got, err := OriginalRequest(c.r)
		if err != nil || got.Method != c.method || got.Scheme != c.scheme || got.Host != c.host || got.EscapedPath != c.path {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
	for name, r := range map[string]*http.Request{
		"fail/no-uri":          req("GET", "/gateway/check", nil),
		"fail/uri-twice":       req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Uri": {"/a", "/b"}}),
		"fail/host-list":       req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Host": {"a.example, b.example"}}),
		"fail/scheme":          req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Proto": {"ftp"}}),
		"fail/method":          req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Method": {"GE T"}}),
		"fail/host-with-path":  req("GET", "/gateway/check", map[string][]string{"X-Forwarded-Uri": {"/a"}, "X-Forwarded-Host": {"a.example/x"}}),
		"fail/relative-uri":    req("GET", "/gateway/check", map[string][]string{"X-Original-Uri": {"a/b"}}),
		"fail/envoy-no-prefix": req("GET", "/gateway/checkX/a", nil),
	} {
		_, err := OriginalRequest(r)
		var be *authz.BearerError
		if !errors.As(err, &be) || be.Status != http.StatusBadRequest || be.Code != "invalid_request" {
			t.Errorf("%s: %v, want 400 invalid_request", name, err)
		}
	}
}
