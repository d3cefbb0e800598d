package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

func TestError(t *testing.T) {
	secretCause := errors.New("pq: connection to 10.0.0.7 refused; token sig abc123")
	tests := map[string]struct {
		err         error
		status      int
		code        string
		challenge   string // WWW-Authenticate
		logged      bool
		description string // a part of the description that must be sent
	}{
		"fail/invalid-request": {
			err: fosite.ErrInvalidRequest.WithHint("The token parameter is missing."), status: 400, code: "invalid_request",
			description: "The token parameter is missing.",
		},
		"fail/invalid-client-basic-challenge": {
			err: fosite.ErrInvalidClient, status: 401, code: "invalid_client", challenge: `Basic realm="strongroom"`,
		},
		"fail/unauthorized-client-403": {
			err:    &fosite.RFC6749Error{ErrorField: "unauthorized_client", DescriptionField: "no", CodeField: http.StatusForbidden},
			status: 403, code: "unauthorized_client",
		},
		"fail/unsupported-grant": {
			err: fosite.ErrUnsupportedGrantType, status: 400, code: "unsupported_grant_type",
		},
		"fail/storage-unavailable-503": {
			err: fmt.Errorf("get client: %w", storage.ErrUnavailable), status: 503, code: "temporarily_unavailable", logged: true,
		},
		"fail/server-error-hides-cause": {
			err: fosite.ErrServerError.WithWrap(secretCause).WithDebug(secretCause.Error()), status: 500, code: "server_error", logged: true,
		},
		"fail/plain-error-is-server-error": {
			err: secretCause, status: 500, code: "server_error", logged: true,
		},
		"fail/bearer-invalid-token": {
			err:    &authz.BearerError{Status: 401, Code: "invalid_token", Description: "The access token is invalid, expired or revoked."},
			status: 401, code: "invalid_token", challenge: `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked."`,
		},
		"fail/bearer-no-token-realm-only": {
			err:    &authz.BearerError{Status: 401, Code: "invalid_token", Description: "Missing bearer token.", NoToken: true},
			status: 401, code: "invalid_token", challenge: `Bearer realm="strongroom"`,
		},
		"fail/bearer-insufficient-scope": {
			err:    &authz.BearerError{Status: 403, Code: "insufficient_scope", Description: "The access token was not granted the openid scope."},
			status: 403, code: "insufficient_scope", challenge: `Bearer error="insufficient_scope", error_description="The access token was not granted the openid scope."`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", nil)
			r = r.WithContext(authz.WithRequestID(r.Context(), "req-1"))
			w := httptest.NewRecorder()
			Error(w, r, log, tc.err)

			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			for h, want := range map[string]string{
				"Content-Type": "application/json;charset=UTF-8", "Cache-Control": "no-store", "Pragma": "no-cache",
				"WWW-Authenticate": tc.challenge,
			} {
				if got := w.Header().Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if len(body) != 2 || body["error"] != tc.code {
				t.Fatalf("body %v, want exactly error %q and error_description", body, tc.code)
			}
			desc, _ := body["error_description"].(string)
			if desc == "" || !strings.Contains(desc, tc.description) {
				t.Errorf("error_description %q, want it to say %q", desc, tc.description)
			}
			for _, leak := range []string{"10.0.0.7", "abc123", "pq:", "stack", ".go:"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, w.Body)
				}
			}
			if logged := strings.Contains(logs.String(), `"msg":"server error"`); logged != tc.logged {
				t.Errorf("logged = %v, want %v: %s", logged, tc.logged, logs.String())
			}
			if tc.logged && !strings.Contains(logs.String(), `"request_id":"req-1"`) {
				t.Errorf("server error log lacks the request id: %s", logs.String())
			}
		})
	}
}

func TestAuthorizeResponse(t *testing.T) {
	header := func() http.Header {
		h := http.Header{}
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		return h
	}
	t.Run("ok/redirect", func(t *testing.T) {
		w := httptest.NewRecorder()
		AuthorizeResponse(w, &authz.AuthorizeResponse{Header: header(), RedirectURL: "https://client.example/cb?code=c&state=s"})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "https://client.example/cb?code=c&state=s" {
			t.Fatalf("%d Location %q", w.Code, w.Header().Get("Location"))
		}
		if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Pragma") != "no-cache" {
			t.Fatalf("headers %v", w.Header())
		}
	})
	t.Run("ok/form-post", func(t *testing.T) {
		w := httptest.NewRecorder()
		h := header()
		h.Set("Content-Type", "text/html;charset=UTF-8")
		AuthorizeResponse(w, &authz.AuthorizeResponse{Header: h, FormAction: "https://client.example/cb",
			FormParams: url.Values{"code": {"c<1>"}, "state": {"s"}}})
		body := w.Body.String()
		if w.Code != http.StatusOK || w.Header().Get("Location") != "" || w.Header().Get("Content-Type") != "text/html;charset=UTF-8" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
		if !strings.Contains(body, `action="https://client.example/cb"`) || !strings.Contains(body, "c&lt;1&gt;") || strings.Contains(body, "c<1>") {
			t.Fatalf("form post body (action, escaped values): %s", body)
		}
	})
}
