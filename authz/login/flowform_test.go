package login

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestFlowStoresOnlyUnderstoodParameters: an unauthenticated /authorize
// stores a pending flow; parameters nobody reads (30 KB of padding, display,
// login_hint, a request object) are dropped before it is stored, the ones
// the server understands are kept.
func TestFlowStoresOnlyUnderstoodParameters(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	form := url.Values{
		"response_type": {"code"}, "scope": {"openid profile"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"prompt": {"login"}, "max_age": {"60"}, "response_mode": {"query"}, "acr_values": {"mfa"},
		"client_id": {"c1"}, "redirect_uri": {"https://client.example.com/cb"}, "audience": {"api"}, "resource": {"https://api.example.com/pay"},
		"dpop_jkt":              {"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		"authorization_details": {`[{"type":"payment_initiation"}]`},
		"x_padding":             {strings.Repeat("A", 30<<10)}, "display": {"page"}, "login_hint": {"bob"},
		"request": {"eyJhbGciOiJub25lIn0.e30."}, "client_secret": {"SECRET"},
	}
	challenge, err := f.p.startFlow(ctx, authorizeRequest(f.client, form), nil, "browser-1")
	must(t, err)
	flow, _, err := f.p.loadFlow(ctx, challenge, "browser-1")
	must(t, err)
	stored, err := url.ParseQuery(string(flow.Form))
	must(t, err)
	var keys []string
	for k := range stored {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Clone(FlowParams)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("stored parameters %v, want exactly %v", keys, want)
	}
	for _, k := range FlowParams {
		if stored.Get(k) != form.Get(k) {
			t.Errorf("stored %s = %q, want %q", k, stored.Get(k), form.Get(k))
		}
	}
	if len(flow.Form) > 1024 {
		t.Fatalf("stored %d bytes for a request whose understood parameters are a few hundred", len(flow.Form))
	}
}

// TestOversizeAuthorizeRequestIsRefused: understood parameters beyond the
// cap (a huge state, sent in a POST body) are refused with invalid_request
// before anything is stored.
func TestOversizeAuthorizeRequestIsRefused(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	form := url.Values{"response_type": {"code"}, "scope": {"openid"}, "state": {strings.Repeat("s", MaxFlowFormBytes)}}
	_, err := f.p.startFlow(ctx, authorizeRequest(f.client, form), nil, "browser-1")
	wantRFC(t, err, "invalid_request", http.StatusBadRequest)

	// Just under the cap is stored.
	form.Set("state", strings.Repeat("s", MaxFlowFormBytes-200))
	_, err = f.p.startFlow(ctx, authorizeRequest(f.client, form), nil, "browser-1")
	must(t, err)
}
