package render

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// TestJARMFormPostIsAnAutoSubmittingForm: a form_post.jwt answer is a page
// that posts only the JARM response to the client's redirect URI by
// itself, escaped, uncached.
func TestJARMFormPostIsAnAutoSubmittingForm(t *testing.T) {
	header := http.Header{}
	header.Set("Cache-Control", "no-store")
	header.Set("Content-Type", "text/html;charset=UTF-8")
	token := "eyJhbGciOiJFUzI1NiJ9.eyJjb2RlIjoiYyJ9.c2ln"
	w := httptest.NewRecorder()
	AuthorizeResponse(w, &authz.AuthorizeResponse{Header: header, FormAction: "https://app.example/cb", FormParams: url.Values{"response": {token}}})
	body := w.Body.String()
	for _, want := range []string{`action="https://app.example/cb"`, `name="response"`, `value="` + token + `"`, "submit()"} {
		if !strings.Contains(body, want) {
			t.Errorf("form page lacks %q:\n%s", want, body)
		}
	}
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" || strings.Contains(body, `name="code"`) {
		t.Fatalf("status %d, Cache-Control %q, body %s", w.Code, w.Header().Get("Cache-Control"), body)
	}
}

// TestJWTBody: RFC 9701 answers are the bare JWT with their media type.
func TestJWTBody(t *testing.T) {
	w := httptest.NewRecorder()
	JWT(w, http.StatusOK, "application/token-introspection+jwt", "a.b.c")
	if w.Body.String() != "a.b.c" || w.Header().Get("Content-Type") != "application/token-introspection+jwt" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("body %q headers %v", w.Body.String(), w.Header())
	}
}
