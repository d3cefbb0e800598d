package oauth

import (
	"context"
	"encoding/json"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/rar"
)

// Rich authorization requests (RFC 9396). authorization_details is
// validated where a request is first seen (the authorization and PAR
// endpoints: checkAuthorizationDetails; the token endpoint:
// tokenAuthorizationDetails) and replaced by its canonical form, so that
// the pending flow, the consent page and the grant all see the same bytes.
// The granted details live on the session (authz.Session.AuthorizationDetails).

// allowedDetailTypes returns the authorization details types the client is
// registered for.
func allowedDetailTypes(c fosite.Client) []string {
	ac, ok := c.(*authz.Client)
	if !ok {
		return nil
	}
	return ac.Registration().Metadata.AuthorizationDetailsTypes
}

// checkAuthorizationDetails validates the request's authorization_details
// (if any) against the registry and the client's allowed types, and
// rewrites the parameter in canonical form.
func (p *core) checkAuthorizationDetails(ctx context.Context, ar fosite.Requester) (rar.Details, error) {
	form := ar.GetRequestForm()
	raw, ok := form[rar.Param]
	if !ok {
		return nil, nil
	}
	if len(raw) != 1 {
		return nil, rar.ErrInvalidAuthorizationDetails.WithHint("The authorization_details parameter was sent more than once.")
	}
	ds, err := p.rar.Validate(ctx, allowedDetailTypes(ar.GetClient()), raw[0])
	if err != nil {
		return nil, authz.MapError(err)
	}
	form.Set(rar.Param, string(ds.JSON()))
	return ds, nil
}

// tokenAuthorizationDetails decides the authorization details of the
// access token a token request issues (RFC 9396 §6):
//   - client_credentials: the request's details, validated like at the
//     authorization endpoint, are granted;
//   - authorization_code and refresh_token: the grant's details (kept with
//     the code or refresh token) are granted, or the subset the request
//     names (narrowing; anything not granted is invalid_authorization_details).
//     The refresh token keeps the whole grant (GrantAuthorizationDetails).
func (p *core) tokenAuthorizationDetails(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*authz.Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	sess.GrantAuthorizationDetails = nil
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		ds, err := p.checkAuthorizationDetails(ctx, ar)
		if err != nil {
			return err
		}
		sess.AuthorizationDetails = ds.JSON()
		return nil
	}
	form := ar.GetRequestForm()
	raw, ok := form[rar.Param]
	if !ok {
		return nil
	}
	if len(raw) != 1 {
		return rar.ErrInvalidAuthorizationDetails.WithHint("The authorization_details parameter was sent more than once.")
	}
	requested, err := rar.Parse(raw[0])
	if err != nil {
		return err
	}
	granted, err := rar.ParseJSON(sess.AuthorizationDetails)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if err := rar.Narrow(granted, requested); err != nil {
		return err
	}
	if !rar.Equal(granted, requested) {
		sess.GrantAuthorizationDetails = sess.AuthorizationDetails
		sess.AuthorizationDetails = requested.JSON()
	}
	return nil
}

// addAuthorizationDetails puts the access token's authorization details
// into the token response (RFC 9396 §7).
func addAuthorizationDetails(ar fosite.AccessRequester, body map[string]any) {
	if sess, ok := ar.GetSession().(*authz.Session); ok && len(sess.AuthorizationDetails) > 0 {
		body[rar.Param] = json.RawMessage(sess.AuthorizationDetails)
	}
}

// AuthorizationDetailsTypes returns the types the server accepts now
// (discovery: authorization_details_types_supported).
func (p *Tokens) AuthorizationDetailsTypes(ctx context.Context) ([]string, error) {
	types, err := p.rar.Types(ctx)
	return types, authz.MapError(err)
}
