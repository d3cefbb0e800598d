package oauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/storage"
)

// Revoke answers RFC 7009 token revocation. The client authenticates like at
// the token endpoint; a token that is unknown, expired or already revoked is
// not an error (§2.2: 200 either way), but a request refused for its client
// authentication (including two methods at once) is never answered 200.
// Another client's token is answered like an unknown one and not revoked.
// nil means 200 with an empty body.
func (p *Tokens) Revoke(ctx context.Context, r *http.Request) (err error) {
	ctx, span := p.startSpan(ctx, "oauth.Revoke")
	defer func() { endSpan(span, "", err) }()
	if r.PostForm.Get("token") == "" {
		// Authenticate first, so a caller without credentials learns nothing more.
		if _, err := p.provider.AuthenticateClient(ctx, r, r.PostForm); err != nil {
			return err
		}
		return fosite.ErrInvalidRequest.WithHint("The token parameter is missing.")
	}
	var clientID string
	err = authz.MapError(p.provider.NewRevocationRequest(clientauth.RecordClient(ctx, &clientID), r))
	// fosite answers a token no handler could revoke with a bare invalid_request.
	unknownToken := err != nil && fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidRequest.ErrorField &&
		!errors.Is(err, authz.ErrClientAuthRequest)
	// fosite's revocation handler answers another client's token with
	// unauthorized_client, after the caller authenticated and before
	// anything is revoked. Answered so, it would tell any client which
	// strings are live tokens of other clients: a foreign token is answered
	// exactly as an unknown one (RFC 7009 §2.2: 200), and stays valid.
	foreignToken := errors.Is(err, fosite.ErrUnauthorizedClient)
	if err != nil && !unknownToken && !foreignToken {
		return err
	}
	p.auditRevocation(ctx, r, clientID, !unknownToken)
	return nil
}

// ActionTokenRevoke is the audit action of an RFC 7009 revocation.
const ActionTokenRevoke = "token.revoke"

// auditRevocation records a revocation by an authenticated client: which
// client, the type hint and whether a token was found (never the token).
// A lost event is logged: the revocation itself has happened.
func (p *Tokens) auditRevocation(ctx context.Context, r *http.Request, clientID string, found bool) {
	if clientID == "" {
		return
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	hint := r.PostForm.Get("token_type_hint")
	if len(hint) > 32 {
		hint = hint[:32]
	}
	e := &storage.AuditEvent{
		Time: p.now().UTC(), Actor: "client:" + clientID, Action: ActionTokenRevoke, Target: clientID,
		Outcome: storage.OutcomeSuccess, SourceIP: ip,
		Details: map[string]string{"client_id": clientID, "token_type_hint": hint, "token_found": strconv.FormatBool(found)},
	}
	if err := p.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		p.log.Error("audit event lost", "action", ActionTokenRevoke, "err", err)
	}
}
