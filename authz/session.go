package authz

import (
	"time"

	"github.com/google/uuid"
	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what Strongroom keeps with every grant: the OpenID Connect
// session (ID token claims and headers) plus what JWT access tokens need. It is
// serialized into storage with each token.
type Session struct {
	*openid.DefaultSession `json:"oidc"`
	// ClientID is the client the grant was issued to (client_id claim, RFC 9068).
	ClientID string `json:"client_id,omitempty"`
	// AccessTokenAlg signs JWT access tokens for this grant.
	AccessTokenAlg string `json:"at_alg,omitempty"`
	// UserClaims are the user's standard claims released by the granted scopes
	// (served at userinfo).
	UserClaims map[string]any `json:"user_claims,omitempty"`
}

var (
	_ fosite.Session             = (*Session)(nil)
	_ openid.Session             = (*Session)(nil)
	_ oauth2.JWTSessionContainer = (*Session)(nil)
)

// NewSession returns an empty session, the prototype fosite fills from storage.
func NewSession() *Session {
	return &Session{DefaultSession: &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{Extra: map[string]any{}},
	}}
}

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(fosite.Session)
}

// GetJWTClaims implements oauth2.JWTSessionContainer: the claims of an RFC 9068
// JWT access token. For client_credentials the subject is the client.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	sub := s.GetSubject()
	if sub == "" {
		sub = s.ClientID
	}
	extra := map[string]any{"client_id": s.ClientID}
	if c := s.IDTokenClaims(); c != nil && !c.AuthTime.IsZero() && s.GetSubject() != "" {
		extra["auth_time"] = c.AuthTime.Unix()
	}
	return &jwt.JWTClaims{
		Subject:   sub,
		JTI:       uuid.NewString(),
		IssuedAt:  time.Now().UTC(),
		NotBefore: time.Now().UTC(),
		Extra:     extra,
	}
}

// GetJWTHeader implements oauth2.JWTSessionContainer: typ at+jwt (RFC 9068 §2.1).
func (s *Session) GetJWTHeader() *jwt.Headers {
	alg := s.AccessTokenAlg
	if alg == "" {
		alg = "ES256"
	}
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt", "alg": alg}}
}
