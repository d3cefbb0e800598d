package render

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
)

// TestErrorDPoP: a use_dpop_nonce error carries its nonce in a DPoP-Nonce
// header, at the token endpoint (an OAuth error wrapping the *dpop.Error)
// and at a resource (a BearerError with the DPoP scheme and its algs).
func TestErrorDPoP(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	de := &dpop.Error{Code: dpop.CodeUseNonce, Description: "Send the server's nonce.", Nonce: "n-1"}
	w := httptest.NewRecorder()
	Error(w, httptest.NewRequest("POST", "/oauth2/token", nil), log,
		(&fosite.RFC6749Error{ErrorField: de.Code, DescriptionField: de.Description, CodeField: http.StatusBadRequest}).WithWrap(de))
	if w.Code != 400 || w.Header().Get(dpop.NonceHeaderName) != "n-1" {
		t.Fatalf("token endpoint: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	Error(w, httptest.NewRequest("GET", "/userinfo", nil), log,
		&authz.BearerError{Status: 401, Code: dpop.CodeUseNonce, Description: "Send the server's nonce.", DPoP: true, Algs: []string{"ES256", "PS256"}, Nonce: "n-2"})
	want := `DPoP error="use_dpop_nonce", error_description="Send the server's nonce.", algs="ES256 PS256"`
	if w.Code != 401 || w.Header().Get(dpop.NonceHeaderName) != "n-2" || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("userinfo: %d %v", w.Code, w.Header())
	}
	// an invalid_dpop_proof without a nonce sends none
	w = httptest.NewRecorder()
	bad := &dpop.Error{Code: dpop.CodeInvalidProof, Description: "bad"}
	Error(w, httptest.NewRequest("POST", "/oauth2/token", nil), log,
		(&fosite.RFC6749Error{ErrorField: bad.Code, DescriptionField: bad.Description, CodeField: http.StatusBadRequest}).WithWrap(bad))
	if w.Code != 400 || w.Header().Get(dpop.NonceHeaderName) != "" {
		t.Fatalf("invalid_dpop_proof: %d %v", w.Code, w.Header())
	}
}
