package grant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/fositestore"
)

// ErrInvalidTarget is RFC 8707 §2 (and RFC 8693 §2.2.2): a resource or
// audience the client may not obtain a token for, or that is malformed.
var ErrInvalidTarget = &fosite.RFC6749Error{
	ErrorField:       "invalid_target",
	DescriptionField: "The requested resource is invalid, unknown, or not allowed for this client.",
	CodeField:        http.StatusBadRequest,
}

// Audiences. A token's audience is what the request names with RFC 8707
// "resource" (repeatable) or "audience" parameters, each exactly one of the
// client's registered audiences; with none, the client's whole registered
// audience; for a client without one, the issuer (this server's own
// resources: userinfo, the admin API). A token never has an empty aud. The
// issuer default is not stored with the grant but filled in when a JWT is
// signed or a token introspected (IssuerAudience), so it follows the
// issuer of the node that answers.

// ExactAudience returns the fosite AudienceMatchingStrategy: exact string
// matching (fosite's default also accepts any path below a registered URL),
// answering invalid_target. A client without a registered audience may name
// the issuer only.
func ExactAudience(issuer string) fosite.AudienceMatchingStrategy {
	return func(allowed, requested []string) error {
		if len(allowed) == 0 {
			allowed = []string{issuer}
		}
		for _, a := range requested {
			if !slices.Contains(allowed, a) {
				return ErrInvalidTarget.WithHintf("The client may not obtain a token for the audience %q.", truncateHint(a))
			}
		}
		return nil
	}
}

// DefaultAudience is the granted audience of a request that names none:
// the client's registered audience (empty for a client without one, see
// IssuerAudience).
func DefaultAudience(c fosite.Client) []string {
	return slices.Clone(c.GetAudience())
}

// IssuerAudience is the aud of a token whose grant has audience aud: aud
// itself, or the issuer when it is empty.
func IssuerAudience(aud []string, issuer string) []string {
	if len(aud) > 0 {
		return aud
	}
	return []string{issuer}
}

// RequestedTargets returns the audiences a request names: its "audience"
// values (repeated, or one space-separated value) and its RFC 8707
// "resource" values, which must be absolute URIs without a fragment.
func RequestedTargets(form url.Values) ([]string, error) {
	out := fosite.GetAudiences(form)
	for _, r := range form["resource"] {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || strings.Contains(r, "#") {
			return nil, ErrInvalidTarget.WithHintf("The resource %q is not an absolute URI without a fragment (RFC 8707 §2).", truncateHint(r))
		}
		out = append(out, r)
	}
	return authz.Dedupe(out), nil
}

func truncateHint(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

// checkTargets refuses any requested target outside allowed.
func checkTargets(requested, allowed []string) error {
	for _, a := range requested {
		if !slices.Contains(allowed, a) {
			return ErrInvalidTarget.WithHintf("The audience %q was not granted.", truncateHint(a))
		}
	}
	return nil
}

// Requested is the grant policy of a new grant (an authorization code
// at authz/oauth's Issue, a client_credentials token): it grants r every
// requested scope (fosite has checked each against the client's
// registration, ExactScopeStrategy) and the decided audience (authz/oauth's
// authorizeAudience, or the requested targets or the client's default for
// client_credentials). Refresh and code redemption only narrow a grant
// (Code, Refresh), never widen it.
func Requested(r fosite.Requester, audience []string) {
	for _, s := range r.GetRequestedScopes() {
		r.GrantScope(s)
	}
	for _, a := range audience {
		r.GrantAudience(a)
	}
}

// setGranted replaces what a request grants (fosite only appends).
func setGranted(r fosite.Requester, scopes, audience []string) error {
	var req *fosite.Request
	switch x := r.(type) {
	case *fosite.AccessRequest:
		req = &x.Request
	case *fosite.Request:
		req = x
	default:
		return fmt.Errorf("unexpected request type %T", r)
	}
	req.GrantedScope = fosite.Arguments(slices.Clone(scopes))
	req.GrantedAudience = fosite.Arguments(slices.Clone(audience))
	return nil
}

// subset keeps the values of all that are in want, in the order of all.
func subset(all, want []string) []string {
	out := make([]string, 0, len(want))
	for _, v := range all {
		if slices.Contains(want, v) {
			out = append(out, v)
		}
	}
	return out
}

// Code wraps fosite's authorization code handler. At the authorization
// endpoint, a code lives at most MaxLifetime of its client. At the token
// endpoint: RFC 8707 "resource"/"audience" in the token request narrow the
// access token to part of what was authorized (anything else is
// invalid_target); the refresh token keeps the whole grant. A code lost to
// a concurrent redemption is invalid_grant, never a server error.
type Code struct {
	*oauth2.AuthorizeExplicitGrantHandler
	// MaxLifetime is the longest a code issued to a client may live, zero
	// for the configured lifespan; nil caps no code. It takes effect when
	// the handler's Config is a CodeLifetimeConfig.
	MaxLifetime func(fosite.Client) time.Duration
}

// HandleAuthorizeEndpointRequest implements fosite.AuthorizeEndpointHandler:
// the code lives at most MaxLifetime of the client (FAPI 2.0: 60 s).
func (h Code) HandleAuthorizeEndpointRequest(ctx context.Context, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) error {
	if h.MaxLifetime != nil {
		if max := h.MaxLifetime(ar.GetClient()); max > 0 {
			ctx = withCodeLifetimeCap(ctx, max)
		}
	}
	return h.AuthorizeExplicitGrantHandler.HandleAuthorizeEndpointRequest(ctx, ar, resp)
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h Code) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if err := h.AuthorizeExplicitGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		return err
	}
	targets, err := RequestedTargets(r.GetRequestForm())
	if err != nil {
		return err
	}
	// the code's requested audience is what authz/oauth's Issue granted
	return checkTargets(targets, r.GetRequestedAudience())
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler.
func (h Code) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	targets, err := RequestedTargets(r.GetRequestForm())
	if err != nil {
		return err
	}
	requester := r
	if len(targets) > 0 {
		sess, ok := r.GetSession().(*authz.Session)
		if !ok {
			return fosite.ErrServerError.WithDebug("unexpected session type")
		}
		sess.GrantAudience = nil
		requester = audienceFilter{AccessRequester: r, allowed: targets, sess: sess}
	}
	err = h.AuthorizeExplicitGrantHandler.PopulateTokenEndpointResponse(ctx, requester, resp)
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || errors.Is(err, fosite.ErrNotFound) {
		// A concurrent redemption won between our checks and the update.
		return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The authorization code has already been used.")
	}
	return err
}

// audienceFilter grants only the allowed audiences, recording every
// audience of the grant in the session (for the refresh token).
type audienceFilter struct {
	fosite.AccessRequester
	allowed []string
	sess    *authz.Session
}

// GrantAudience implements fosite.Requester.
func (f audienceFilter) GrantAudience(a string) {
	if !slices.Contains(f.sess.GrantAudience, a) {
		f.sess.GrantAudience = append(f.sess.GrantAudience, a)
	}
	if slices.Contains(f.allowed, a) {
		f.AccessRequester.GrantAudience(a)
	}
}

// Refresh wraps fosite's refresh token handler:
//   - "scope" may narrow the access token's scope but never widen the grant
//     (RFC 6749 §6: invalid_scope); "resource"/"audience" likewise narrow its
//     audience (RFC 8707: invalid_target). The new refresh token keeps the
//     whole grant.
//   - The loser of two concurrent rotations gets invalid_grant (fosite says
//     invalid_request); outside the reuse grace it is reuse, and the whole
//     family is revoked.
//   - A client for which KeepRefreshToken is true (FAPI 2.0) refreshes
//     without rotation.
type Refresh struct {
	*oauth2.RefreshTokenGrantHandler
	// Store records the loser of a concurrent rotation.
	Store *fositestore.Store
	// KeepRefreshToken reports whether a client's refresh token is kept
	// rather than rotated; nil rotates every client's.
	KeepRefreshToken func(fosite.Client) bool
	// Reused, when set, is told of every refresh token reuse detected
	// (fosite found the token rotated already, or a concurrent rotation
	// was lost outside the grace): the family was revoked. For metrics.
	Reused func(ctx context.Context)
}

// reused reports a detected refresh token reuse to h.Reused.
func (h Refresh) reused(ctx context.Context) {
	if h.Reused != nil {
		h.Reused(ctx)
	}
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h Refresh) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if err := h.RefreshTokenGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		if errors.Is(err, fosite.ErrInactiveToken) {
			h.reused(ctx) // fosite revoked the family (handleRefreshTokenReuse)
		}
		return refreshTokenGone(err)
	}
	// fosite granted the whole original grant; narrow it to the request.
	form := r.GetRequestForm()
	grantScopes, grantAud := slices.Clone(r.GetGrantedScopes()), slices.Clone(r.GetGrantedAudience())
	scopes := fosite.RemoveEmpty(strings.Split(form.Get("scope"), " "))
	for _, s := range scopes {
		if !slices.Contains(grantScopes, s) {
			return fosite.ErrInvalidScope.WithHintf("The scope %q was not granted; a refresh may only narrow the scope.", truncateHint(s))
		}
	}
	targets, err := RequestedTargets(form)
	if err != nil {
		return err
	}
	if err := checkTargets(targets, grantAud); err != nil {
		return err
	}
	sess, ok := r.GetSession().(*authz.Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	sess.GrantScope, sess.GrantAudience = nil, nil
	if len(scopes) == 0 && len(targets) == 0 {
		return nil
	}
	newScopes, newAud := grantScopes, grantAud
	if len(scopes) > 0 {
		newScopes = subset(grantScopes, scopes)
	}
	if len(targets) > 0 {
		newAud = subset(grantAud, targets)
	}
	sess.GrantScope, sess.GrantAudience = grantScopes, grantAud
	if err := setGranted(r, newScopes, newAud); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	return nil
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler.
func (h Refresh) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if h.KeepRefreshToken != nil && h.KeepRefreshToken(r.GetClient()) {
		return h.populateWithoutRotation(ctx, r, resp)
	}
	err := h.RefreshTokenGrantHandler.PopulateTokenEndpointResponse(ctx, r, resp)
	if err == nil || !errors.Is(err, fosite.ErrSerializationFailure) {
		return refreshTokenGone(err)
	}
	// fosite rolled its transaction back; the winner has committed.
	sig := h.RefreshTokenStrategy.RefreshTokenSignature(ctx, r.GetRequestForm().Get("refresh_token"))
	revoked, rerr := h.Store.RefreshRaceLost(ctx, r.GetID(), sig)
	if rerr != nil {
		return fosite.ErrServerError.WithWrap(rerr)
	}
	if revoked {
		h.reused(ctx)
	}
	return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The refresh token was used by a concurrent request.")
}

// populateWithoutRotation answers a FAPI 2.0 client's refresh without
// rotating its refresh token (FAPI 2.0 SP §5.3.2.1: "shall not use refresh
// token rotation except in extraordinary circumstances", so that a client
// retrying a refresh whose answer it lost succeeds). A new access token is
// issued and stored like fosite's handler does; the refresh token stays
// active, keeps its expiry and is returned unchanged, and the grant's
// earlier access tokens keep theirs.
func (h Refresh) populateWithoutRotation(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	accessToken, accessSignature, err := h.AccessTokenStrategy.GenerateAccessToken(ctx, r)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	storeReq := r.Sanitize([]string{})
	storeReq.SetID(r.GetID())
	if err := h.TokenRevocationStorage.CreateAccessTokenSession(ctx, accessSignature, storeReq); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	now := time.Now().UTC()
	expiresIn := r.GetSession().GetExpiresAt(fosite.AccessToken).Sub(now)
	if r.GetSession().GetExpiresAt(fosite.AccessToken).IsZero() {
		expiresIn = fosite.GetEffectiveLifespan(r.GetClient(), fosite.GrantTypeRefreshToken, fosite.AccessToken, h.Config.GetAccessTokenLifespan(ctx))
	}
	resp.SetAccessToken(accessToken)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(expiresIn)
	resp.SetScopes(r.GetGrantedScopes())
	resp.SetExtra("refresh_token", r.GetRequestForm().Get("refresh_token"))
	return nil
}

// refreshTokenGone answers invalid_grant where fosite says invalid_request
// because the refresh token vanished or was deactivated under it (a
// concurrent rotation, or two reuse detections deleting the same row): the
// token is no longer valid, the request itself was fine (RFC 6749 §5.2).
func refreshTokenGone(err error) error {
	if errors.Is(err, fosite.ErrInvalidRequest) &&
		(errors.Is(err, fosite.ErrNotFound) || errors.Is(err, fosite.ErrInactiveToken) || errors.Is(err, fosite.ErrSerializationFailure)) {
		return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The refresh token is no longer valid.")
	}
	return err
}

// ClientCredentials wraps fosite's client credentials handler: the
// token's audience is the requested targets ("resource"/"audience", each
// exactly registered) or the client's default audience; the requested scopes
// (checked by fosite) are granted.
type ClientCredentials struct {
	*oauth2.ClientCredentialsGrantHandler
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h ClientCredentials) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	targets, err := RequestedTargets(r.GetRequestForm())
	if err != nil {
		return err
	}
	r.SetRequestedAudience(targets)
	if strings.TrimSpace(r.GetRequestForm().Get("scope")) == "" {
		// RFC 6749 §3.3: without scope, the predefined default applies.
		r.SetRequestedScopes(DefaultClientCredentialsScopes(r.GetClient()))
	}
	if err := h.ClientCredentialsGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		return err
	}
	if len(targets) == 0 {
		targets = DefaultAudience(r.GetClient())
	}
	Requested(r, targets)
	if sess, ok := r.GetSession().(*authz.Session); ok {
		sess.ClientID = r.GetClient().GetID()
	}
	return nil
}

// DefaultClientCredentialsScopes is what a client_credentials request
// without scope is granted (RFC 6749 §3.3 "a pre-defined default value"):
// every scope registered for the client except those that only mean
// something for a user (openid, offline_access) and the admin API's scope,
// which must always be asked for by name. The token response then names the
// granted scope (RFC 6749 §5.1), so the client sees what it got.
func DefaultClientCredentialsScopes(c fosite.Client) fosite.Arguments {
	var out fosite.Arguments
	for _, s := range c.GetScopes() {
		switch s {
		case "openid", "offline_access", "offline", authz.AdminScope:
			continue
		}
		out = append(out, s)
	}
	return out
}

// codeLifetimeKey carries a cap on the authorization code lifetime through
// fosite's code handler (Code.HandleAuthorizeEndpointRequest).
type codeLifetimeKey struct{}

// withCodeLifetimeCap caps the lifetime of the code fosite issues under ctx.
func withCodeLifetimeCap(ctx context.Context, max time.Duration) context.Context {
	return context.WithValue(ctx, codeLifetimeKey{}, max)
}

// CodeLifetimeConfig is the fosite configuration of Code's handler: the
// configured code lifespan, capped by Code.MaxLifetime.
type CodeLifetimeConfig struct{ *fosite.Config }

// GetAuthorizeCodeLifespan implements fosite.AuthorizeCodeLifespanProvider.
func (c CodeLifetimeConfig) GetAuthorizeCodeLifespan(ctx context.Context) time.Duration {
	d := c.Config.GetAuthorizeCodeLifespan(ctx)
	if max, ok := ctx.Value(codeLifetimeKey{}).(time.Duration); ok && max < d {
		return max
	}
	return d
}
