package fositestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// Store adapts storage.Store to the storage interfaces fosite's
// handlers type-assert at run time. It is the one place where storage
// errors become fosite errors.
type Store struct {
	store   storage.Store
	clients *authz.ClientCache
	now     func() time.Time
	// refreshGrace: a refresh token presented again this soon after it was
	// rotated is a retry or a lost race, not theft (see GetRefreshTokenSession).
	refreshGrace time.Duration
}

var (
	_ fosite.ClientManager               = (*Store)(nil)
	_ oauth2.CoreStorage                 = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
	_ fosite.PARStorage                  = (*Store)(nil)
	_ fositestorage.Transactional        = (*Store)(nil)
)

// New returns the adapter.
func New(store storage.Store, clients *authz.ClientCache, now func() time.Time, refreshGrace time.Duration) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{store: store, clients: clients, now: now, refreshGrace: refreshGrace}
}

// storedRequest is the serialized form of a fosite request. Secrets sent with
// the request (client_secret, client_assertion, code_verifier, ...) are
// removed from the form before it is stored.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"requested_at"`
	ClientID          string          `json:"client_id"`
	RequestedScope    []string        `json:"requested_scope,omitempty"`
	GrantedScope      []string        `json:"granted_scope,omitempty"`
	RequestedAudience []string        `json:"requested_audience,omitempty"`
	GrantedAudience   []string        `json:"granted_audience,omitempty"`
	Form              url.Values      `json:"form,omitempty"`
	Session           json.RawMessage `json:"session,omitempty"`
	// Authorize request fields, kept for PAR.
	ResponseTypes []string `json:"response_types,omitempty"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	State         string   `json:"state,omitempty"`
	ResponseMode  string   `json:"response_mode,omitempty"`
}

// sensitiveParams never reach storage.
var sensitiveParams = []string{"client_secret", "client_assertion", "code_verifier", "refresh_token", "code", "password", "token", "access_token", "id_token_hint"}

// SanitizeForm returns a copy of form without credentials.
func SanitizeForm(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for _, k := range sensitiveParams {
		out.Del(k)
	}
	return out
}

func (s *Store) marshal(kind storage.RequestKind, signature string, r fosite.Requester, expires time.Time) (*storage.Request, error) {
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return nil, fmt.Errorf("marshal session: %w", err)
	}
	sr := storedRequest{
		ID:                r.GetID(),
		RequestedAt:       r.GetRequestedAt(),
		ClientID:          r.GetClient().GetID(),
		RequestedScope:    r.GetRequestedScopes(),
		GrantedScope:      r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(),
		GrantedAudience:   r.GetGrantedAudience(),
		Form:              SanitizeForm(r.GetRequestForm()),
		Session:           sess,
	}
	if ar, ok := r.(fosite.AuthorizeRequester); ok && kind == storage.KindPAR {
		sr.ResponseTypes = ar.GetResponseTypes()
		if u := ar.GetRedirectURI(); u != nil {
			sr.RedirectURI = u.String()
		}
		sr.State = ar.GetState()
		sr.ResponseMode = string(ar.GetResponseMode())
	}
	data, err := json.Marshal(sr)
	if err != nil {
		return nil, fmt.Errorf("marshal request: %w", err)
	}
	subject := ""
	if r.GetSession() != nil {
		subject = r.GetSession().GetSubject()
	}
	if expires.IsZero() {
		expires = s.now().Add(24 * time.Hour)
	}
	return &storage.Request{
		Kind:        kind,
		Signature:   signature,
		RequestID:   r.GetID(),
		ClientID:    r.GetClient().GetID(),
		Subject:     subject,
		Active:      true,
		RequestedAt: r.GetRequestedAt(),
		ExpiresAt:   expires,
		Data:        data,
	}, nil
}

// unmarshal rebuilds a request; session receives the stored session.
func (s *Store) unmarshal(ctx context.Context, row *storage.Request, session fosite.Session) (*fosite.AuthorizeRequest, error) {
	var sr storedRequest
	if err := json.Unmarshal(row.Data, &sr); err != nil {
		return nil, fmt.Errorf("unmarshal request: %w", err)
	}
	if session == nil {
		session = authz.NewSession()
	}
	if len(sr.Session) > 0 {
		if err := json.Unmarshal(sr.Session, session); err != nil {
			return nil, fmt.Errorf("unmarshal session: %w", err)
		}
	}
	client, err := s.clients.Get(ctx, sr.ClientID)
	if err != nil {
		// A deleted or disabled client's tokens are no longer valid.
		return nil, s.mapErr(err)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID = sr.ID
	ar.RequestedAt = sr.RequestedAt
	ar.Client = client
	ar.RequestedScope = sr.RequestedScope
	ar.GrantedScope = sr.GrantedScope
	ar.RequestedAudience = sr.RequestedAudience
	ar.GrantedAudience = sr.GrantedAudience
	if sr.Form != nil {
		ar.Form = sr.Form
	}
	ar.Session = session
	ar.ResponseTypes = sr.ResponseTypes
	ar.State = sr.State
	ar.ResponseMode = fosite.ResponseModeType(sr.ResponseMode)
	if sr.RedirectURI != "" {
		u, err := url.Parse(sr.RedirectURI)
		if err != nil {
			return nil, fmt.Errorf("stored redirect_uri: %w", err)
		}
		ar.RedirectURI = u
	}
	return ar, nil
}

// mapErr turns storage errors into what fosite expects. Unavailability keeps
// its identity (errors.Is(err, storage.ErrUnavailable)) so the HTTP layer can
// answer 503 instead of fosite's default mapping.
func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fosite.ErrNotFound.WithWrap(err)
	case errors.Is(err, storage.ErrConflict):
		return fosite.ErrSerializationFailure.WithWrap(err)
	default:
		return err
	}
}

func (s *Store) create(ctx context.Context, kind storage.RequestKind, sig string, r fosite.Requester, expires time.Time) error {
	row, err := s.marshal(kind, sig, r, expires)
	if err != nil {
		return err
	}
	if j, _ := ctx.Value(pendingJTIKey{}).(*PendingJTI); j != nil && kind == storage.KindAccessToken && !j.written {
		if err := s.store.CreateRequestOnce(ctx, row, j.Key, j.Until); err != nil {
			return s.mapErr(err) // storage.ErrJTIUsed stays in the chain
		}
		j.written = true
		return nil
	}
	return s.mapErr(s.store.CreateRequest(ctx, row))
}

// PendingJTI is a replay record (a DPoP proof's) to be written with the
// access token it binds, in one write (storage.JTIs.CreateRequestOnce):
// the token endpoint's DPoP proof costs no write of its own.
type PendingJTI struct {
	Key   string
	Until time.Time

	written bool
}

// Written reports whether an access token was stored with the record.
func (j *PendingJTI) Written() bool { return j.written }

type pendingJTIKey struct{}

// WithPendingJTI returns ctx carrying j: the first access token stored
// with the returned context records j with it, or fails with
// storage.ErrJTIUsed (and stores nothing) when j is already recorded. One
// request's context; j is not safe for concurrent use.
func WithPendingJTI(ctx context.Context, j *PendingJTI) context.Context {
	return context.WithValue(ctx, pendingJTIKey{}, j)
}

// get loads a row; inactive rows come back with inactiveErr (fosite needs the
// requester too, e.g. to revoke a reused code's tokens).
func (s *Store) get(ctx context.Context, kind storage.RequestKind, sig string, session fosite.Session, inactiveErr error) (fosite.Requester, error) {
	row, err := s.store.GetRequest(ctx, kind, sig)
	return s.fromRow(ctx, row, err, session, inactiveErr)
}

// fromRow turns the result of one GetRequest into what fosite expects.
func (s *Store) fromRow(ctx context.Context, row *storage.Request, err error, session fosite.Session, inactiveErr error) (fosite.Requester, error) {
	if err != nil && !errors.Is(err, storage.ErrInactive) {
		return nil, s.mapErr(err)
	}
	r, uerr := s.unmarshal(ctx, row, session)
	if uerr != nil {
		return nil, uerr
	}
	if err != nil {
		return r, inactiveErr
	}
	return r, nil
}

func (s *Store) del(ctx context.Context, kind storage.RequestKind, sig string) error {
	return s.mapErr(s.store.DeleteRequest(ctx, kind, sig))
}

// ---- fosite.ClientManager

// GetClient implements fosite.ClientManager (through the cache).
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		return nil, s.mapErr(err)
	}
	return c, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager. Replay is decided
// atomically in SetClientAssertionJWT, so this check-then-act step cannot race.
func (s *Store) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT records the jti; a replay gets fosite.ErrJTIKnown
// (the HTTP layer answers it as 401 invalid_client).
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	err := s.store.UseJTI(ctx, jti, exp)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return fosite.ErrJTIKnown.WithWrap(err)
	}
	return err
}

// ---- authorization codes

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, storage.KindAuthorizeCode, sig, r, r.GetSession().GetExpiresAt(fosite.AuthorizeCode))
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, storage.KindAuthorizeCode, sig, session, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
// Exactly one of two concurrent exchanges wins.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	err := s.store.DeactivateRequest(ctx, storage.KindAuthorizeCode, sig)
	if errors.Is(err, storage.ErrInactive) || errors.Is(err, storage.ErrConflict) {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return s.mapErr(err)
}

// ---- access tokens

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, storage.KindAccessToken, sig, r, r.GetSession().GetExpiresAt(fosite.AccessToken))
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) GetAccessTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, storage.KindAccessToken, sig, session, fosite.ErrInactiveToken)
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	return s.del(ctx, storage.KindAccessToken, sig)
}

// ---- refresh tokens

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. When the
// access token issued with it was narrowed (Session.GrantScope,
// GrantAudience), the refresh token keeps the whole grant (RFC 6749 §6).
func (s *Store) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	if sess, ok := r.GetSession().(*authz.Session); ok && (sess.GrantScope != nil || sess.GrantAudience != nil) {
		req, ok := r.(*fosite.Request)
		if !ok {
			return fmt.Errorf("refresh token of a narrowed grant: unexpected request type %T", r)
		}
		whole := *req
		if sess.GrantScope != nil {
			whole.GrantedScope = fosite.Arguments(sess.GrantScope)
		}
		if sess.GrantAudience != nil {
			whole.GrantedAudience = fosite.Arguments(sess.GrantAudience)
		}
		r = &whole
	}
	return s.create(ctx, storage.KindRefreshToken, sig, r, r.GetSession().GetExpiresAt(fosite.RefreshToken))
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage.
//
// Policy: fosite treats an inactive refresh token as reuse and revokes the
// whole grant. With a reuse grace configured (default none), a token
// deactivated less than refreshGrace ago is instead reported as not found
// (400 invalid_grant, nothing revoked): a client retrying a refresh whose
// answer it lost keeps its session, at the price that a thief who refreshed
// first keeps it too. Later presentations are always reuse.
func (s *Store) GetRefreshTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	row, err := s.store.GetRequest(ctx, storage.KindRefreshToken, sig)
	if errors.Is(err, storage.ErrInactive) && s.inGrace(row) {
		return nil, fosite.ErrNotFound.WithHint("The refresh token was just rotated; use the new one.")
	}
	// One read decides: a second one could see a rotation committed in between.
	return s.fromRow(ctx, row, err, session, fosite.ErrInactiveToken)
}

// inGrace reports whether an inactive refresh token row was deactivated
// less than the reuse grace ago (never, with the default grace of 0).
func (s *Store) inGrace(row *storage.Request) bool {
	return s.refreshGrace > 0 && row != nil && !row.DeactivatedAt.IsZero() && s.now().Sub(row.DeactivatedAt) < s.refreshGrace
}

// RefreshRaceLost handles the loser of two concurrent rotations of one
// refresh token, after its own transaction was rolled back (the winner has
// committed: the loser waited on its row lock). Both presented the same
// token, so outside the reuse grace this is reuse: every token of the
// grant is revoked, the winner's new ones included (RFC 9700 §4.14.2).
func (s *Store) RefreshRaceLost(ctx context.Context, requestID, sig string) error {
	row, err := s.store.GetRequest(ctx, storage.KindRefreshToken, sig)
	switch {
	case errors.Is(err, storage.ErrInactive) && s.inGrace(row):
		return nil
	case err != nil && !errors.Is(err, storage.ErrInactive) && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("read the refresh token after a lost rotation: %w", err)
	}
	return storage.InTx(ctx, s.store, func(ctx context.Context) error {
		if err := s.store.RevokeRequestID(ctx, storage.KindRefreshToken, requestID); err != nil {
			return fmt.Errorf("revoke the refresh tokens of a reused grant: %w", err)
		}
		if err := s.store.RevokeRequestID(ctx, storage.KindAccessToken, requestID); err != nil {
			return fmt.Errorf("revoke the access tokens of a reused grant: %w", err)
		}
		return nil
	})
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	return s.del(ctx, storage.KindRefreshToken, sig)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage. fosite calls it
// inside the refresh transaction: the presented refresh token stops working
// and the grant's access tokens are revoked. Of two concurrent refreshes of
// the same token exactly one wins; the other gets ErrSerializationFailure,
// which grant.Refresh answers with 400 invalid_grant and, outside the reuse
// grace, treats as reuse (RefreshRaceLost).
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	err := s.store.DeactivateRequest(ctx, storage.KindRefreshToken, sig)
	if errors.Is(err, storage.ErrInactive) || errors.Is(err, storage.ErrConflict) {
		return fosite.ErrSerializationFailure.WithWrap(err)
	}
	if err != nil {
		return s.mapErr(err)
	}
	return s.mapErr(s.store.RevokeRequestID(ctx, storage.KindAccessToken, requestID))
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.mapErr(s.store.RevokeRequestID(ctx, storage.KindRefreshToken, requestID))
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.mapErr(s.store.RevokeRequestID(ctx, storage.KindAccessToken, requestID))
}

// ---- OpenID Connect

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, storage.KindOIDC, code, r, r.GetSession().GetExpiresAt(fosite.AuthorizeCode))
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	return s.get(ctx, storage.KindOIDC, code, r.GetSession(), fosite.ErrNotFound)
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.del(ctx, storage.KindOIDC, code)
}

// ---- PKCE

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, storage.KindPKCE, sig, r, r.GetSession().GetExpiresAt(fosite.AuthorizeCode))
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) GetPKCERequestSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, storage.KindPKCE, sig, session, fosite.ErrNotFound)
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) DeletePKCERequestSession(ctx context.Context, sig string) error {
	return s.del(ctx, storage.KindPKCE, sig)
}

// ---- PAR

// CreatePARSession implements fosite.PARStorage.
func (s *Store) CreatePARSession(ctx context.Context, requestURI string, r fosite.AuthorizeRequester) error {
	return s.create(ctx, storage.KindPAR, requestURI, r, r.GetSession().GetExpiresAt(fosite.PushedAuthorizeRequestContext))
}

// GetPARSession implements fosite.PARStorage.
func (s *Store) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	r, err := s.get(ctx, storage.KindPAR, requestURI, authz.NewSession(), fosite.ErrNotFound)
	if err != nil {
		return nil, err
	}
	return r.(*fosite.AuthorizeRequest), nil
}

// DeletePARSession implements fosite.PARStorage.
func (s *Store) DeletePARSession(ctx context.Context, requestURI string) error {
	return s.del(ctx, storage.KindPAR, requestURI)
}

// ---- transactions

// BeginTX implements fosite storage.Transactional.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	return s.store.BeginTx(ctx)
}

// Commit implements fosite storage.Transactional.
func (s *Store) Commit(ctx context.Context) error { return s.store.CommitTx(ctx) }

// Rollback implements fosite storage.Transactional.
func (s *Store) Rollback(ctx context.Context) error { return s.store.RollbackTx(ctx) }
