// Package admintest checks the admin API against its OpenAPI document
// (api/openapi.yaml) from tests: a validating HTTP transport that matches
// every request to an operation of the document and validates the request
// and the response with kin-openapi's openapi3filter. Tests of the admin
// API, the CLI's remote mode and the end-to-end suite all use it.
package admintest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/strongroom/strongroom/api"
)

// Load parses and validates the OpenAPI document, pointed at baseURL.
func Load(tb testing.TB, baseURL string) *openapi3.T {
	tb.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		tb.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		tb.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	return doc
}

// Transport validates every exchange against the document. Requests that a
// test sends on purpose outside the document (bad input) go through
// SkipRequestCheck; their responses are still checked.
type Transport struct {
	tb     testing.TB
	base   http.RoundTripper
	router routers.Router

	mu       sync.Mutex
	checked  int
	skipNext bool
}

// NewTransport returns a validating transport for the admin API at baseURL.
// base may be nil (http.DefaultTransport).
func NewTransport(tb testing.TB, baseURL string, base http.RoundTripper) *Transport {
	tb.Helper()
	router, err := gorillamux.NewRouter(Load(tb, baseURL))
	if err != nil {
		tb.Fatalf("openapi router: %v", err)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{tb: tb, base: base, router: router}
}

// Client returns an HTTP client using t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// SkipRequestCheck makes the next request skip request validation.
func (t *Transport) SkipRequestCheck() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.skipNext = true
}

// Checked reports how many responses were validated.
func (t *Transport) Checked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checked
}

// RoundTrip implements http.RoundTripper. A mismatch fails the test.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	skip := t.skipNext
	t.skipNext = false
	t.mu.Unlock()

	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	if err := t.check(req, reqBody, resp, respBody, skip); err != nil {
		t.tb.Errorf("admin API exchange does not match api/openapi.yaml: %s %s → %d: %v\nresponse: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
	return resp, nil
}

func (t *Transport) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte, skipRequest bool) error {
	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := t.router.FindRoute(vreq)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return checkProblemOnly(resp, respBody) // not an operation of the document
		}
		return fmt.Errorf("no operation for the request: %w", err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if !skipRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("request: %w", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	t.mu.Lock()
	t.checked++
	t.mu.Unlock()
	return nil
}

// checkProblemOnly checks that an answer outside the document's operations
// is still a problem document.
func checkProblemOnly(resp *http.Response, body []byte) error {
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("content type %q, want application/problem+json", ct)
	}
	if !bytes.Contains(body, []byte(`"status":`)) {
		return fmt.Errorf("not a problem document")
	}
	return nil
}

// URL joins base and path.
func URL(base, path string) string {
	u, err := url.JoinPath(base, path) // #nosec G125 -- test helper: paths are the test's own route constants
	if err != nil {
		panic(err)
	}
	return u
}
