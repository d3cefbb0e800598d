package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
)

// FuzzFormAndDuplicateParameters feeds arbitrary query strings, bodies
// and content types through the body cap and the duplicate-parameter
// middleware at the token endpoint. It must never panic; a request either
// reaches the handler with every parameter (but resource and audience)
// once and none in both query and body, or is refused with a JSON OAuth
// error (400 or 413 invalid_request) without reaching it.
//
//	go test -run '^$' -fuzz FuzzFormAndDuplicateParameters -fuzztime 30s ./api/
func FuzzFormAndDuplicateParameters(f *testing.F) {
	for _, seed := range []struct{ method, query, ctype, body string }{
		{"POST", "", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a+b"},
		{"POST", "", "application/x-www-form-urlencoded", "scope=a&scope=b"},
		{"POST", "client_id=a", "application/x-www-form-urlencoded", "client_id=a"},
		{"POST", "", "application/x-www-form-urlencoded", "resource=https://a&resource=https://b"},
		{"POST", "", "application/x-www-form-urlencoded", "a=%zz"},
		{"POST", "", "application/x-www-form-urlencoded", "a=1;b=2"},
		{"GET", "a=1&a=2", "", ""},
		{"POST", "", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--\r\n"},
		{"POST", "", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--X--\r\n"},
		{"POST", "", "text/plain", "scope=a&scope=b"},
		{"POST", "", "application/x-www-form-urlencoded", strings.Repeat("a", 2<<10)},
	} {
		f.Add(seed.method, seed.query, seed.ctype, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, query, ctype, body string) {
		if method != http.MethodGet {
			method = http.MethodPost
		}
		s := &Server{browser: &pageBrowser{}, opts: Options{MaxBodyBytes: 1 << 10}}
		e := echo.New()
		reached := false
		var seen *http.Request
		ok := func(c echo.Context) error {
			reached, seen = true, c.Request()
			return c.NoContent(http.StatusNoContent)
		}
		e.Add(method, authz.PathToken, ok, s.limitBody, s.rejectDuplicates)
		r := httptest.NewRequest(method, authz.PathToken, strings.NewReader(body))
		r.URL.RawQuery = query
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		if reached {
			if rec.Code != http.StatusNoContent {
				t.Fatalf("handler reached, status %d", rec.Code)
			}
			q := seen.URL.Query()
			for _, vals := range []url.Values{q, seen.PostForm} {
				for k, v := range vals {
					if len(v) > 1 && !repeatable[k] {
						t.Fatalf("parameter %q reached the handler %d times", k, len(v))
					}
				}
			}
			if method == http.MethodPost {
				for k := range seen.PostForm {
					if q.Has(k) {
						t.Fatalf("parameter %q reached the handler in both query and body", k)
					}
				}
			}
			return
		}
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("refused with status %d", rec.Code)
		}
		var answer map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer["error"] != "invalid_request" {
			t.Fatalf("refusal is not a JSON invalid_request: %q", rec.Body.String())
		}
	})
}
