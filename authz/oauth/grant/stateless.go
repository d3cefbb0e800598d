package grant

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
)

// Stateless JWT access tokens. The client_credentials grant of a client
// registered for JWT access tokens issues a token that is not stored: it
// carries everything introspection answers (client_id, scope, aud, exp,
// iat, cnf, authorization_details) and its grant id, the fosite request id,
// as "gid" and as "jti". "gid" marks a token as stateless: a JWT without it
// (a user grant's) has a row and is looked up as before. Revocation goes
// through the grant revocation list (authz/revocation), keyed by gid.

// ClaimGrantID is the claim that names a stateless JWT access token's grant.
const ClaimGrantID = "gid"

// StatelessStrategy is the access token strategy of the client_credentials
// grant: a client registered for JWTs gets a stateless JWT (signed
// directly, without fosite's claim structures), every other client what
// Strategy issues.
type StatelessStrategy struct {
	oauth2.AccessTokenStrategy
	// Signer signs with the server's keys (authz.KeySource.Signer).
	Signer jwt.Signer
	// Issuer is the iss, and the aud of a grant without an audience.
	Issuer string
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *StatelessStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if !wantsJWT(r) {
		return s.AccessTokenStrategy.GenerateAccessToken(ctx, r)
	}
	sess, ok := r.GetSession().(*authz.Session)
	if !ok {
		return "", "", errors.New("stateless JWT: unexpected session type")
	}
	id := r.GetID()
	if id == "" {
		return "", "", errors.New("stateless JWT: the request has no id")
	}
	clientID := r.GetClient().GetID()
	now := time.Now().UTC().Unix()
	claims := jwt.MapClaims{
		"iss":        s.Issuer,
		"sub":        clientID,
		"client_id":  clientID,
		"aud":        IssuerAudience(r.GetGrantedAudience(), s.Issuer),
		"iat":        now,
		"nbf":        now,
		"jti":        id,
		ClaimGrantID: id,
	}
	if exp := sess.GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	if sc := r.GetGrantedScopes(); sc != nil {
		claims["scope"] = strings.Join(sc, " ")
	}
	if cnf := sess.Confirmation(); cnf != nil {
		claims["cnf"] = cnf
	}
	if len(sess.AuthorizationDetails) > 0 {
		claims["authorization_details"] = json.RawMessage(sess.AuthorizationDetails)
	}
	return s.Signer.Generate(ctx, claims, sess.GetJWTHeader())
}

// StatelessStorage is the access token storage of the client_credentials
// grant: the stateless JWTs StatelessStrategy issues are not stored.
type StatelessStorage struct {
	oauth2.AccessTokenStorage
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s StatelessStorage) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	if wantsJWT(r) {
		return nil
	}
	return s.AccessTokenStorage.CreateAccessTokenSession(ctx, sig, r)
}
