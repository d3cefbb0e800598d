package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/httpmw"
)

// tokenPath is an OAuth endpoint that answers errors in JSON (the
// authorization endpoint answers them with a page).
const tokenPath = "/oauth2/token"

// testEcho mounts handler at tokenPath (GET and POST) behind the OAuth
// endpoints' middleware (limitBody, rejectDuplicates) and the shared set, as
// New does, with a body limit of maxBody bytes; the log is JSON into logs.
func testEcho(maxBody int64, logs *bytes.Buffer, handler echo.HandlerFunc) *echo.Echo {
	log := slog.New(slog.NewJSONHandler(logs, nil))
	s := &Server{log: log, opts: Options{MaxBodyBytes: maxBody}}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(log)
	httpmw.Use(e, httpmw.Options{Log: log, AccessLogMessage: "request", PanicMessage: "panic in handler", Caller: clientAttr})
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		e.Add(m, tokenPath, handler, s.limitBody, s.rejectDuplicates)
	}
	return e
}

// echoForm answers the parsed query and form, as the handler saw them.
func echoForm(c echo.Context) error {
	r := c.Request()
	return c.JSON(http.StatusOK, map[string]url.Values{"query": r.URL.Query(), "form": r.PostForm})
}

func serve(e *echo.Echo, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	return rec
}

func postForm(target string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// oauthError decodes an OAuth error answer and checks its form: JSON, not
// cached.
func oauthError(t *testing.T, rec *httptest.ResponseRecorder) (code, desc string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("answer %d is not a JSON error: %q", rec.Code, rec.Body)
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("error answer with Content-Type %q", rec.Header().Get("Content-Type"))
	}
	return body.Error, body.Description
}

func TestRejectDuplicates(t *testing.T) {
	long := strings.Repeat("p", 200)
	tests := map[string]struct {
		req      func() *http.Request
		wantDesc string // empty: the request passes
	}{
		"ok/each once in query and form": {
			req: func() *http.Request {
				return postForm(tokenPath+"?x=1", url.Values{"grant_type": {"client_credentials"}, "scope": {"a b"}})
			},
		},
		"ok/resource and audience repeat (RFC 8707, RFC 8693)": {
			req: func() *http.Request {
				return postForm(tokenPath+"?resource=https://a.example&resource=https://b.example",
					url.Values{"audience": {"a", "b"}, "grant_type": {"client_credentials"}})
			},
		},
		"ok/GET query": {
			req: func() *http.Request { return httptest.NewRequest(http.MethodGet, tokenPath+"?a=1&b=2", nil) },
		},
		"fail/twice in the query": {
			req:      func() *http.Request { return httptest.NewRequest(http.MethodGet, tokenPath+"?scope=a&scope=b", nil) },
			wantDesc: `The parameter "scope" was sent more than once.`,
		},
		"fail/twice in the form": {
			req: func() *http.Request {
				return postForm(tokenPath, url.Values{"grant_type": {"password", "client_credentials"}})
			},
			wantDesc: `The parameter "grant_type" was sent more than once.`,
		},
		"fail/in both query and form": {
			req:      func() *http.Request { return postForm(tokenPath+"?client_id=a", url.Values{"client_id": {"b"}}) },
			wantDesc: `The parameter "client_id" was sent more than once.`,
		},
		"fail/a repeatable one in both query and form": {
			req:      func() *http.Request { return postForm(tokenPath+"?resource=x", url.Values{"resource": {"y"}}) },
			wantDesc: `The parameter "resource" was sent more than once.`,
		},
		"fail/the name is cut to 64 bytes": {
			req:      func() *http.Request { return postForm(tokenPath, url.Values{long: {"1", "2"}}) },
			wantDesc: `The parameter "` + long[:64] + `" was sent more than once.`,
		},
		"fail/twice in a multipart form": {
			req: func() *http.Request {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				_ = mw.WriteField("code", "a")
				_ = mw.WriteField("code", "b")
				_ = mw.Close()
				r := httptest.NewRequest(http.MethodPost, tokenPath, &body)
				r.Header.Set("Content-Type", mw.FormDataContentType())
				return r
			},
			wantDesc: `The parameter "code" was sent more than once.`,
		},
		"fail/twice in a multipart form whose media type is in capitals": {
			req: func() *http.Request {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				_ = mw.WriteField("code", "a")
				_ = mw.WriteField("code", "b")
				_ = mw.Close()
				r := httptest.NewRequest(http.MethodPost, tokenPath, &body)
				r.Header.Set("Content-Type", "MULTIPART/Form-Data; boundary="+mw.Boundary())
				return r
			},
			wantDesc: `The parameter "code" was sent more than once.`,
		},
		"fail/a body that is no form": {
			req: func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader("--x\r\nbroken"))
				r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
				return r
			},
			wantDesc: "The request body could not be parsed as a form (or is too large).",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			reached := false
			e := testEcho(64<<10, new(bytes.Buffer), func(c echo.Context) error { reached = true; return echoForm(c) })
			rec := serve(e, tt.req())
			if tt.wantDesc == "" {
				if rec.Code != http.StatusOK || !reached {
					t.Fatalf("status %d (handler reached: %v): %s", rec.Code, reached, rec.Body)
				}
				return
			}
			if reached {
				t.Fatal("the handler ran")
			}
			code, desc := oauthError(t, rec)
			if rec.Code != http.StatusBadRequest || code != "invalid_request" || desc != tt.wantDesc {
				t.Fatalf("got %d %s %q, want 400 invalid_request %q", rec.Code, code, desc, tt.wantDesc)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}
}

// The repeatable parameters reach the handler with every value.
func TestRejectDuplicatesKeepsRepeatableValues(t *testing.T) {
	e := testEcho(64<<10, new(bytes.Buffer), echoForm)
	rec := serve(e, postForm(tokenPath, url.Values{"resource": {"https://a.example", "https://b.example"}}))
	var got map[string]url.Values
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if r := got["form"]["resource"]; len(r) != 2 || r[0] != "https://a.example" || r[1] != "https://b.example" {
		t.Fatalf("resource values %v", r)
	}
}

func TestLimitBody(t *testing.T) {
	const limit = 128
	under := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("s", 40)}}
	over := url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("s", 2*limit)}}

	t.Run("ok/under the limit", func(t *testing.T) {
		e := testEcho(limit, new(bytes.Buffer), echoForm)
		if rec := serve(e, postForm(tokenPath, under)); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("fail/declared length over the limit", func(t *testing.T) {
		reached := false
		e := testEcho(limit, new(bytes.Buffer), func(c echo.Context) error { reached = true; return nil })
		rec := serve(e, postForm(tokenPath, over))
		code, desc := oauthError(t, rec)
		if rec.Code != http.StatusRequestEntityTooLarge || code != "invalid_request" || desc != "The request body is too large." || reached {
			t.Fatalf("got %d %s %q (handler reached: %v), want 413 invalid_request", rec.Code, code, desc, reached)
		}
	})
	t.Run("fail/undeclared length over the limit", func(t *testing.T) {
		// A chunked body has no Content-Length: the cap applies while the
		// form is read, and the request is refused before the handler.
		reached := false
		e := testEcho(limit, new(bytes.Buffer), func(c echo.Context) error { reached = true; return nil })
		r := postForm(tokenPath, nil)
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(over.Encode())), -1
		rec := serve(e, r)
		if code, _ := oauthError(t, rec); rec.Code != http.StatusBadRequest || code != "invalid_request" || reached {
			t.Fatalf("got %d %s (handler reached: %v), want 400 invalid_request before the handler", rec.Code, code, reached)
		}
	})
}

// TestUnparseableFormIsRefusedBeforeTheHandler: a url-encoded body Go cannot
// parse (a bad percent escape) is invalid_request, never an empty form
// handed to the endpoint.
func TestUnparseableFormIsRefusedBeforeTheHandler(t *testing.T) {
	reached := false
	e := testEcho(1<<10, new(bytes.Buffer), func(c echo.Context) error { reached = true; return nil })
	r := httptest.NewRequest(http.MethodPost, tokenPath, strings.NewReader("grant_type=client_credentials&scope=%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := serve(e, r)
	if code, _ := oauthError(t, rec); rec.Code != http.StatusBadRequest || code != "invalid_request" || reached {
		t.Fatalf("got %d %s (handler reached: %v), want 400 invalid_request before the handler", rec.Code, code, reached)
	}

}

// The access log names the authenticated client, else the client a failed
// request claimed (Basic user name or client_id), and never a secret.
func TestAccessLogNamesTheClientNeverItsSecret(t *testing.T) {
	tests := map[string]struct {
		req        func() *http.Request
		handler    echo.HandlerFunc
		wantClient string
	}{
		"authenticated": {
			req: func() *http.Request { return postForm(tokenPath, url.Values{"client_id": {"claimed"}}) },
			handler: func(c echo.Context) error {
				setClient(c, "authenticated-client")
				return c.NoContent(http.StatusOK)
			},
			wantClient: "authenticated-client",
		},
		"claimed by Basic user name": {
			req: func() *http.Request {
				r := postForm(tokenPath, url.Values{"grant_type": {"client_credentials"}})
				r.SetBasicAuth(url.QueryEscape("basic client"), "the-basic-secret")
				return r
			},
			handler:    func(c echo.Context) error { return c.NoContent(http.StatusUnauthorized) },
			wantClient: "basic client",
		},
		"claimed by client_id": {
			req: func() *http.Request {
				return postForm(tokenPath, url.Values{"client_id": {"form-client"}, "client_secret": {"the-form-secret"}})
			},
			handler:    func(c echo.Context) error { return c.NoContent(http.StatusUnauthorized) },
			wantClient: "form-client",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			serve(testEcho(64<<10, &logs, tt.handler), tt.req())
			for _, secret := range []string{"the-basic-secret", "the-form-secret"} {
				if strings.Contains(logs.String(), secret) {
					t.Fatalf("the log carries %q:\n%s", secret, logs.String())
				}
			}
			var line map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
				t.Fatalf("want one access line: %v\n%s", err, logs.String())
			}
			if line["msg"] != "request" || line["client_id"] != tt.wantClient {
				t.Fatalf("access line %v, want client_id %q", line, tt.wantClient)
			}
		})
	}
}

// Echo's own errors (unknown route, wrong method) and a handler's unexpected
// error are answered as OAuth-style JSON; a 500 says nothing of its cause.
func TestErrorHandlerAnswersJSONWithoutInternals(t *testing.T) {
	var logs bytes.Buffer
	e := testEcho(64<<10, &logs, func(echo.Context) error { return io.ErrUnexpectedEOF })
	for _, tt := range []struct {
		method, target string
		status         int
		code           string
	}{
		{http.MethodGet, "/nowhere", http.StatusNotFound, "not_found"},
		{http.MethodDelete, tokenPath, http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, tokenPath, http.StatusInternalServerError, "server_error"},
	} {
		rec := serve(e, httptest.NewRequest(tt.method, tt.target, nil))
		code, desc := oauthError(t, rec)
		if rec.Code != tt.status || code != tt.code || desc != http.StatusText(tt.status) {
			t.Errorf("%s %s: %d %s %q, want %d %s", tt.method, tt.target, rec.Code, code, desc, tt.status, tt.code)
		}
	}
	if !strings.Contains(logs.String(), io.ErrUnexpectedEOF.Error()) {
		t.Errorf("the 500's cause is not logged:\n%s", logs.String())
	}
}
