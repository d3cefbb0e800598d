package authz

import (
	"encoding/json"
	"math"
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
	// GrantScope and GrantAudience are the whole grant when a token request
	// narrowed its access token (RFC 6749 §6, RFC 8707): the refresh token
	// issued with it keeps them. Nil: the access token has the whole grant.
	GrantScope    []string `json:"grant_scope,omitempty"`
	GrantAudience []string `json:"grant_aud,omitempty"`

	// AuthorizationDetails are the granted RFC 9396 authorization details
	// of the access token (canonical JSON array; authz/rar), carried into
	// its JWT claim, the token response and introspection.
	// GrantAuthorizationDetails is the whole grant when a token request
	// narrowed them (RFC 9396 §6.1): the refresh token keeps it. Nil: the
	// access token has the whole grant.
	AuthorizationDetails      json.RawMessage `json:"authorization_details,omitempty"`
	GrantAuthorizationDetails json.RawMessage `json:"grant_authorization_details,omitempty"`

	// Sender constraint (RFC 9449, RFC 8705). CodeJKT is the dpop_jkt of
	// the authorization request: the code may only be redeemed with a proof
	// of that key. JKT and X5TS256 bind the access token (its cnf claim):
	// the thumbprint of the DPoP key, of the client certificate. RefreshJKT
	// binds a public client's refresh token: a refresh must prove that key.
	CodeJKT    string `json:"code_jkt,omitempty"`
	JKT        string `json:"jkt,omitempty"`
	X5TS256    string `json:"x5t_s256,omitempty"`
	RefreshJKT string `json:"refresh_jkt,omitempty"`
}

// Confirmation is the cnf claim of the session's access token (RFC 9449 §6,
// RFC 8705 §3.1), nil when the token is not sender-constrained.
func (s *Session) Confirmation() map[string]any {
	if s.JKT == "" && s.X5TS256 == "" {
		return nil
	}
	cnf := map[string]any{}
	if s.JKT != "" {
		cnf["jkt"] = s.JKT
	}
	if s.X5TS256 != "" {
		cnf["x5t#S256"] = s.X5TS256
	}
	return cnf
}

// UnmarshalJSON implements json.Unmarshaler. Claims come back from storage
// as JSON numbers, which decode to float64 and would be signed as
// 1.796287287e+09; whole numbers are turned back into int64 (OIDC Core §5.1
// updated_at, and every other numeric claim).
func (s *Session) UnmarshalJSON(b []byte) error {
	type plain Session
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	s.UserClaims = wholeNumbers(s.UserClaims)
	if s.DefaultSession != nil && s.Claims != nil {
		s.Claims.Extra = wholeNumbers(s.Claims.Extra)
	}
	if s.DefaultSession != nil && s.Headers != nil {
		s.Headers.Extra = wholeNumbers(s.Headers.Extra)
	}
	return nil
}

// wholeNumbers replaces integral float64 values (also in nested maps and
// lists) by int64, in place.
func wholeNumbers(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = wholeNumber(v)
	}
	return m
}

func wholeNumber(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case map[string]any:
		return wholeNumbers(x)
	case []any:
		for i := range x {
			x[i] = wholeNumber(x[i])
		}
	}
	return v
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
	if cnf := s.Confirmation(); cnf != nil {
		extra["cnf"] = cnf
	}
	if len(s.AuthorizationDetails) > 0 {
		// RFC 9396 §9.1; raw JSON: go-jose encodes it as it is
		extra["authorization_details"] = json.RawMessage(s.AuthorizationDetails)
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
