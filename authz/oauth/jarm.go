package oauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
)

// JWT Secured Authorization Response Mode (JARM): with response_mode jwt,
// query.jwt, fragment.jwt or form_post.jwt the authorization response, a
// success (code, state, iss) or an error (error, error_description, state),
// travels as one JWT in the "response" parameter, signed with the server's
// key for the client's authorization_signed_response_alg, aud the client,
// iss the issuer and a short exp (JARM §2.1, §4.1). The JWT is built for
// every answer that goes back to the client's redirect URI (Issue and
// AuthorizeError); an answer that cannot go there is a page, as for every
// response mode.

// jarmLifetime is how long a JARM response is valid (JARM §2.1: exp
// "SHOULD be short"; FAPI: at most 10 minutes).
const jarmLifetime = 2 * time.Minute

// jarmModes are the JARM response modes.
var jarmModes = fosite.ResponseModeTypes{
	authz.ResponseModeJWT, authz.ResponseModeQueryJWT, authz.ResponseModeFragmentJWT, authz.ResponseModeFormPostJWT,
}

// isJARM reports whether rm is a JARM response mode.
func isJARM(rm fosite.ResponseModeType) bool { return slices.Contains(jarmModes, rm) }

// jarmResponseModes makes fosite accept the JARM modes (ParseResponseMode
// asks the extension handler). fosite never writes a response here (Issue
// and AuthorizeError build them as values), so its writers answer 500.
type jarmResponseModes struct{}

var _ fosite.ResponseModeHandler = jarmResponseModes{}

// ResponseModes implements fosite.ResponseModeHandler.
func (jarmResponseModes) ResponseModes() fosite.ResponseModeTypes { return jarmModes }

// WriteAuthorizeResponse implements fosite.ResponseModeHandler; unused.
func (jarmResponseModes) WriteAuthorizeResponse(_ context.Context, w http.ResponseWriter, _ fosite.AuthorizeRequester, _ fosite.AuthorizeResponder) {
	w.WriteHeader(http.StatusInternalServerError)
}

// WriteAuthorizeError implements fosite.ResponseModeHandler; unused.
func (jarmResponseModes) WriteAuthorizeError(_ context.Context, w http.ResponseWriter, _ fosite.AuthorizeRequester, _ error) {
	w.WriteHeader(http.StatusInternalServerError)
}

// jarmCarrier is how a JARM response reaches the client: "jwt" is
// query.jwt for response_type code and fragment.jwt otherwise (JARM §2.3.4).
func jarmCarrier(ar fosite.AuthorizeRequester) fosite.ResponseModeType {
	switch ar.GetResponseMode() {
	case authz.ResponseModeQueryJWT:
		return fosite.ResponseModeQuery
	case authz.ResponseModeFragmentJWT:
		return fosite.ResponseModeFragment
	case authz.ResponseModeFormPostJWT:
		return fosite.ResponseModeFormPost
	}
	rt := ar.GetResponseTypes()
	if len(rt) == 0 {
		// an error found before fosite read response_type
		rt = strings.Fields(ar.GetRequestForm().Get("response_type"))
	}
	if len(rt) == 1 && rt[0] == "code" {
		return fosite.ResponseModeQuery
	}
	return fosite.ResponseModeFragment
}

// signedResponseAlg is the algorithm that signs a response for a client
// that registered want ("" = none): want, else ES256, else PS256, else the
// server's first signing algorithm.
func (p *core) signedResponseAlg(want string) string {
	if want != "" {
		return want
	}
	for _, alg := range []string{"ES256", "PS256"} {
		if slices.Contains(p.cfg.IDTokenAlgs, alg) {
			return alg
		}
	}
	return p.cfg.IDTokenAlgs[0]
}

// signingAlgs are the algorithms the server signs responses with (its key
// algorithms): discovery's authorization_signing_alg_values_supported and
// introspection_signing_alg_values_supported.
func (p *core) signingAlgs() []string { return slices.Clone(p.cfg.IDTokenAlgs) }

// signJWT signs claims with the server's active key for alg, with typ.
func (p *core) signJWT(ctx context.Context, alg, typ string, claims jwt.MapClaims) (string, error) {
	header := &jwt.Headers{Extra: map[string]any{"alg": alg}}
	if typ != "" {
		header.Extra["typ"] = typ
	}
	token, _, err := p.keys.Signer(alg).Generate(ctx, claims, header)
	if err != nil {
		return "", fosite.ErrServerError.WithWrap(err).WithDebugf("signing a %s JWT with %s failed", typ, alg)
	}
	return token, nil
}

// jarmAnswer signs the authorization response parameters params (iss, if
// present, becomes the JWT's iss) as a JARM JWT and returns the answer that
// carries it in "response" by jarmCarrier.
func (p *core) jarmAnswer(ctx context.Context, ar fosite.AuthorizeRequester, params url.Values, header http.Header) (*authz.AuthorizeResponse, error) {
	client, err := storageClient(ar.GetClient())
	if err != nil {
		return nil, err
	}
	now := p.now()
	claims := jwt.MapClaims{}
	for k := range params {
		claims[k] = params.Get(k)
	}
	claims["iss"] = p.cfg.Issuer
	claims["aud"] = client.GetID()
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(jarmLifetime).Unix()
	token, err := p.signJWT(ctx, p.signedResponseAlg(client.Registration().Metadata.AuthorizationSignedResponseAlg), "", claims)
	if err != nil {
		p.logServerError(ctx, err)
		return nil, authz.Unredirectable(err)
	}
	out := url.Values{"response": {token}}
	redirect := *ar.GetRedirectURI()
	switch jarmCarrier(ar) {
	case fosite.ResponseModeFormPost:
		header.Set("Content-Type", "text/html;charset=UTF-8")
		return &authz.AuthorizeResponse{Header: header, FormAction: redirect.String(), FormParams: out}, nil
	case fosite.ResponseModeFragment:
		redirect.Fragment = ""
		return &authz.AuthorizeResponse{Header: header, RedirectURL: redirect.String() + "#" + out.Encode()}, nil
	default:
		q := redirect.Query()
		q.Set("response", token)
		redirect.RawQuery = q.Encode()
		return &authz.AuthorizeResponse{Header: header, RedirectURL: redirect.String()}, nil
	}
}

// checkJARMRequired refuses an authorization request of a FAPI 2.0 Message
// Signing client without a JARM response mode: its responses are signed.
func checkJARMRequired(ar fosite.AuthorizeRequester) error {
	c, ok := ar.GetClient().(*authz.Client)
	if !ok || !c.Registration().Metadata.IsFAPI2MessageSigning() || isJARM(ar.GetResponseMode()) {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("FAPI 2.0 Message Signing clients must request a signed authorization response: response_mode jwt, query.jwt, fragment.jwt or form_post.jwt (JARM).")
}
