package login

import (
	"net/url"

	"github.com/ory/fosite"
)

// FlowParams are the authorization request parameters Strongroom
// understands, the only ones a pending flow stores (startFlow): RFC 6749
// (response_type, client_id, redirect_uri, scope, state), OAuth 2.0 Multiple
// Response Type Encoding Practices (response_mode), RFC 7636 (code_challenge,
// code_challenge_method), OpenID Connect Core 1.0 §3.1.2.1 (nonce, prompt,
// max_age, acr_values), RFC 8707 (resource), RFC 9449 §10 (dpop_jkt, the
// key the code is bound to), RFC 9396 (authorization_details, validated and
// canonical) and fosite's audience. Anything else (display,
// ui_locales, login_hint, request objects, made-up names) is read by no one,
// so it is dropped rather than kept for the flow's lifetime; a pushed
// request's parameters were merged into the form before this filter.
var FlowParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "response_mode",
	"code_challenge", "code_challenge_method",
	"nonce", "prompt", "max_age", "acr_values",
	"audience", "resource",
	"dpop_jkt",
	"authorization_details",
}

// MaxFlowFormBytes caps the stored (URL-encoded) parameters of a pending
// flow. It is the longest query a request line may carry (8 KiB), so any
// request that fits in a URL fits in a flow; a larger one (a POST to the
// authorization endpoint, or pushed parameters) is refused with
// invalid_request instead of stored.
const MaxFlowFormBytes = 8 << 10

// flowForm returns the parameters of form that a flow stores (FlowParams)
// encoded, or invalid_request when they exceed MaxFlowFormBytes.
// Credentials are never among them.
func flowForm(form url.Values) ([]byte, error) {
	kept := url.Values{}
	for _, k := range FlowParams {
		if v, ok := form[k]; ok {
			kept[k] = append([]string(nil), v...)
		}
	}
	enc := kept.Encode()
	if len(enc) > MaxFlowFormBytes {
		return nil, fosite.ErrInvalidRequest.WithHint("The authorization request parameters are too large (at most 8 KiB).")
	}
	return []byte(enc), nil
}
