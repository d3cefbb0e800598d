package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite/token/jwt"
)

var (
	// ErrUnknownKey reports a token whose kid names no published key (or
	// that has no kid).
	ErrUnknownKey = errors.New("keys: unknown signing key")
	// ErrAlgMismatch reports a token whose alg header is not the algorithm
	// of the key its kid names, including alg "none".
	ErrAlgMismatch = errors.New("keys: token algorithm does not match its key")
)

// Signer returns a fosite jwt.Signer backed by the manager's snapshot.
//
// Generate picks the signing key from the header mapper: a "kid" naming an
// active key (whose algorithm agrees with any "alg" hint) is used as is;
// otherwise an "alg" hint selects that algorithm's active key (an error
// wrapping ErrNoActiveKey if there is none: a client registered for ES256
// must not silently get RS256); otherwise defaultAlg's active key. The token
// carries the chosen key's kid and alg; every other header, such as "typ"
// ("at+jwt" for RFC 9068 access tokens), is passed through, and "typ"
// defaults to "JWT" as in fosite's DefaultSigner.
//
// Validate and Decode verify with the published (next, active or retired)
// key named by the token's kid and refuse alg "none" and an alg that is not
// the key's. Like DefaultSigner they return *jwt.ValidationError (with the
// parsed token from Decode, so that an expired id_token_hint can still be
// read); a failed key lookup is a ValidationError whose Inner wraps
// ErrUnknownKey or ErrAlgMismatch.
func (m *Manager) Signer(defaultAlg string) jwt.Signer {
	return &signer{m: m, defaultAlg: defaultAlg}
}

type signer struct {
	m          *Manager
	defaultAlg string
}

var _ jwt.Signer = (*signer)(nil)

// Generate signs claims and returns the token and its signature part.
func (s *signer) Generate(_ context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("keys: either claims or header is nil")
	}
	key, err := s.m.snap.Load().pick(header, s.defaultAlg)
	if err != nil {
		return "", "", err
	}

	extra := header.ToMap()
	h := make(map[string]any, len(extra)+1)
	for k, v := range extra {
		if k == "alg" || k == "kid" {
			continue // ours to set: they must name the key that signs
		}
		h[k] = v
	}
	h["kid"] = key.kid

	token := jwt.NewWithClaims(key.method, claims)
	token.Header = h
	raw, err := token.SignedString(key.priv)
	if err != nil {
		return "", "", fmt.Errorf("keys: sign with %s: %w", key.kid, err)
	}
	sig, err := tokenSignature(raw)
	if err != nil {
		return "", "", err
	}
	return raw, sig, nil
}

// pick selects the signing key for a header (see Manager.Signer).
func (s *snapshot) pick(header jwt.Mapper, defaultAlg string) (*signingKey, error) {
	algHint, _ := header.Get("alg").(string)
	if kid, _ := header.Get("kid").(string); kid != "" {
		if v, ok := s.byKID[kid]; ok && (algHint == "" || algHint == v.alg) {
			if k := s.active[v.alg]; k != nil && k.kid == kid {
				return k, nil
			}
		}
	}
	alg := defaultAlg
	if algHint != "" {
		alg = algHint
	}
	if k := s.active[alg]; k != nil {
		return k, nil
	}
	if _, ok := lookupAlg(alg); !ok {
		return nil, fmt.Errorf("keys: sign with %q: %w", alg, ErrUnsupportedAlg)
	}
	return nil, fmt.Errorf("%w for %s", ErrNoActiveKey, alg)
}

// Validate verifies the token and its time claims and returns its signature.
func (s *signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return tokenSignature(token)
}

// Decode parses and verifies the token. On a verification or claims error it
// returns the token too, as fosite's DefaultSigner does.
func (s *signer) Decode(_ context.Context, token string) (*jwt.Token, error) {
	snap := s.m.snap.Load()
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, snap.verificationKey)
}

// verificationKey is the jwt.Keyfunc: the published key named by kid, if
// the token's alg is that key's.
func (s *snapshot) verificationKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: fmt.Errorf("%w: token has no kid", ErrUnknownKey)}
	}
	v, ok := s.byKID[kid]
	if !ok {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)}
	}
	if t.Method != v.method {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: fmt.Errorf("%w: alg %q, key %s is %s", ErrAlgMismatch, t.Method, kid, v.alg)}
	}
	return v.key, nil
}

// GetSignature returns the signature part of a compact JWS.
func (s *signer) GetSignature(_ context.Context, token string) (string, error) {
	return tokenSignature(token)
}

// Hash returns the SHA-256 of in, as fosite's DefaultSigner does.
func (s *signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSigningMethodLength returns the length of Hash's output.
func (s *signer) GetSigningMethodLength(context.Context) int {
	return jwt.SHA256HashSize
}

func tokenSignature(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("header, body and signature must all be set")
	}
	return parts[2], nil
}
