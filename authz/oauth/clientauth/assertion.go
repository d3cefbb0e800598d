package clientauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	// go-jose v3: the JWK types of fosite's Client interface
	fositejose "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// AssertionType is the only client_assertion_type (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionClockSkew is how far in the future an assertion's iat or nbf may
// lie: FAPI 2.0 Security Profile §5.3.2.1 requires accepting 10 s and allows
// refusing anything beyond 60 s; we refuse beyond 10 s (a client whose clock
// is further off is misconfigured, and a shorter window is a tighter bound).
const assertionClockSkew = 10 * time.Second

// MaxJTILen bounds the jti we record (it is stored until the assertion expires).
const MaxJTILen = 256

// AssertionAlgs are the JWS algorithms private_key_jwt assertions may
// use (advertised in discovery beside HMACAssertionAlgs). "none" is never
// among them.
func AssertionAlgs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
	}
}

// fapi2AssertionAlgs are the assertion algorithms a FAPI 2.0 client may use
// (FAPI 2.0 SP §5.4.1: PS256, ES256 or EdDSA; never RS256).
var fapi2AssertionAlgs = []string{string(jose.PS256), string(jose.ES256), string(jose.EdDSA)}

// assertionClaims are the claims of a client assertion (RFC 7523 §3); a claim
// of the wrong JSON type fails decoding.
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Jti string          `json:"jti"`
	Exp *json.Number    `json:"exp"`
	Iat *json.Number    `json:"iat"`
	Nbf *json.Number    `json:"nbf"`
}

// verifyClientAssertion authenticates a private_key_jwt or client_secret_jwt
// client (RFC 7523 §2.2 and §3, OIDC Core §9) in place of fosite's verifier, which accepts an
// aud array with foreign values next to ours, has no clock skew for iat/nbf,
// and records the jti before it checks the audience.
//
// The assertion must be a compact JWS with one of AssertionAlgs, signed
// by a key the client registered for that algorithm (private_key_jwt), or
// one of HMACAssertionAlgs over one of the client's live secrets
// (client_secret_jwt, verifySecretJWT); either way only with the client's
// registered algorithm; iss and sub are the
// client; aud is exactly one acceptable value (AssertionAudiences); exp is
// required, in the future and at most ClientAssertionMaxLifetime ahead;
// iat and nbf, when present, at most assertionClockSkew ahead; the jti is
// recorded last and only once (a replay is refused).
func (p *Authenticator) verifyClientAssertion(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	invalid := func(hint string) *fosite.RFC6749Error { return fosite.ErrInvalidClient.WithHint(hint) }
	if form.Get("client_assertion_type") != AssertionType {
		return nil, invalid("The client_assertion_type must be '" + AssertionType + "'.")
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, invalid("The client_assertion parameter is missing.")
	}
	jws, err := jose.ParseSignedCompact(raw, append(AssertionAlgs(), HMACAssertionAlgs()...))
	if err != nil {
		return nil, invalid("The client_assertion is not a JWS signed with a supported algorithm (RS, PS, ES, EdDSA, or HS for client_secret_jwt).").WithWrap(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("The client_assertion must carry exactly one signature.")
	}
	var claims assertionClaims
	dec := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification()))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, invalid("The client_assertion claims are malformed.").WithWrap(err)
	}

	clientID := claims.Iss
	switch {
	case clientID == "":
		return nil, invalid("The client_assertion must carry an 'iss' claim naming the client.")
	case claims.Sub != clientID:
		return nil, invalid("The client_assertion 'sub' must equal its 'iss' (the client_id).")
	case form.Get("client_id") != "" && form.Get("client_id") != clientID:
		return nil, invalid("The client_assertion 'iss' must equal the client_id.")
	}
	exp, err := p.checkAssertionTimes(claims)
	if err != nil {
		return nil, err
	}
	if err := checkAssertionAudience(claims.Aud, p.AssertionAudiences(r)); err != nil {
		return nil, err
	}
	if claims.Jti == "" || len(claims.Jti) > MaxJTILen {
		return nil, invalid(fmt.Sprintf("The client_assertion must carry a 'jti' claim of 1 to %d bytes.", MaxJTILen))
	}

	client, err := p.clients.GetClient(ctx, clientID)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		return nil, invalid("The client could not be authenticated.").WithWrap(err)
	}
	oc, ok := client.(fosite.OpenIDConnectClient)
	if !ok {
		return nil, invalid("The client is not registered for private_key_jwt or client_secret_jwt authentication.")
	}
	alg := jws.Signatures[0].Header.Algorithm
	hmacAlg := slices.Contains(HMACAssertionAlgs(), jose.SignatureAlgorithm(alg))
	switch method := oc.GetTokenEndpointAuthMethod(); {
	case method == storage.AuthMethodPrivateKeyJWT && !hmacAlg:
		if err := checkAssertionAlg(oc, alg); err != nil {
			return nil, err
		}
		if err := p.verifyAssertionSignature(ctx, oc, jws); err != nil {
			return nil, err
		}
	case method == storage.AuthMethodSecretJWT && hmacAlg:
		if err := checkAssertionAlg(oc, alg); err != nil {
			return nil, err
		}
		if err := p.verifySecretJWT(ctx, oc, jws); err != nil {
			return nil, err
		}
	case method == storage.AuthMethodPrivateKeyJWT:
		return nil, invalid("The client is registered for private_key_jwt: its assertions are signed with its own key, not with an HMAC.")
	case method == storage.AuthMethodSecretJWT:
		return nil, invalid("The client is registered for client_secret_jwt: its assertions are HMACs over its client secret (HS256, HS384 or HS512).")
	default:
		return nil, invalid("The client is not registered for private_key_jwt or client_secret_jwt authentication.")
	}
	// Recorded only now: an assertion refused above does not burn its jti.
	// A jti is unique per issuer (RFC 7519 §4.1.7), so it is recorded under
	// the client: another client cannot use it up in advance.
	if err := p.clients.SetClientAssertionJWT(ctx, clientID+":"+claims.Jti, exp); err != nil {
		return nil, err
	}
	return client, nil
}

// checkAssertionAlg allows only the algorithm the client registered
// (token_endpoint_auth_signing_alg; HS256 for a client_secret_jwt client
// that registered none), and for a FAPI 2.0 client only PS256,
// ES256 or EdDSA, whatever it registered.
func checkAssertionAlg(c fosite.OpenIDConnectClient, alg string) error {
	sc, ok := c.(*authz.Client)
	if !ok {
		return nil
	}
	md := sc.Registration().Metadata
	if md.IsFAPI2() && !slices.Contains(fapi2AssertionAlgs, alg) {
		return fosite.ErrInvalidClient.WithHintf("FAPI 2.0 clients must sign client assertions with PS256, ES256 or EdDSA, not %s.", truncate(alg, 128))
	}
	want := md.TokenEndpointAuthSigningAlg
	if want == "" && sc.GetTokenEndpointAuthMethod() == storage.AuthMethodSecretJWT {
		want = string(jose.HS256) // client_secret_jwt without a registered algorithm
	}
	if want != "" && alg != want {
		return fosite.ErrInvalidClient.WithHintf("The client_assertion must be signed with the client's registered token_endpoint_auth_signing_alg %s, not %s.", want, truncate(alg, 128))
	}
	return nil
}

// checkAssertionTimes checks exp, iat and nbf against the token service's clock and
// returns exp.
func (p *Authenticator) checkAssertionTimes(c assertionClaims) (time.Time, error) {
	now := p.now()
	exp, err := numericDate(c.Exp)
	switch {
	case err != nil || c.Exp == nil:
		return time.Time{}, fosite.ErrInvalidClient.WithHint("The client_assertion must carry a numeric 'exp' claim.")
	case !now.Before(exp):
		return time.Time{}, fosite.ErrInvalidClient.WithHint("The client_assertion has expired.")
	case exp.Sub(now) > p.cfg.ClientAssertionMaxLifetime:
		return time.Time{}, fosite.ErrInvalidClient.WithHintf("The client_assertion expires too far in the future (at most %s).", p.cfg.ClientAssertionMaxLifetime)
	}
	for name, n := range map[string]*json.Number{"iat": c.Iat, "nbf": c.Nbf} {
		if n == nil {
			continue
		}
		t, err := numericDate(n)
		if err != nil {
			return time.Time{}, fosite.ErrInvalidClient.WithHintf("The client_assertion '%s' claim is not a valid NumericDate.", name)
		}
		if t.Sub(now) > assertionClockSkew {
			return time.Time{}, fosite.ErrInvalidClient.WithHintf("The client_assertion '%s' lies more than %s in the future.", name, assertionClockSkew)
		}
	}
	return exp, nil
}

// numericDate reads a JWT NumericDate (RFC 7519 §2), fractions allowed;
// values outside years 1970–9999 are refused.
func numericDate(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, errors.New("missing")
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 253402300799 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	return time.Unix(int64(f), 0), nil
}

// AssertionAudiences are the aud values that name this server in a client
// assertion received by r: the issuer (FAPI 2.0 §5.3.2.1, RFC 7523bis) and,
// for compatibility with OIDC Core §9, the token endpoint URL; at the PAR
// endpoint also the PAR endpoint URL (RFC 9126 §2); each endpoint URL also
// under the mTLS alias base URL when one is configured.
func (p *Authenticator) AssertionAudiences(r *http.Request) []string {
	aud := []string{p.cfg.Issuer, p.cfg.URL(authz.PathToken)}
	if p.mtlsBase() != "" {
		aud = append(aud, p.mtlsBase()+authz.PathToken)
	}
	if r.URL.Path == authz.PathPAR {
		aud = append(aud, p.cfg.URL(authz.PathPAR))
		if p.mtlsBase() != "" {
			aud = append(aud, p.mtlsBase()+authz.PathPAR)
		}
	}
	return aud
}

// checkAssertionAudience accepts an aud that is one acceptable value: a JSON
// string, or an array with that single string. An array with any second
// value is refused even when one of its values names us: a client that lists
// another party's identifier next to ours (CVE-2025-27370/27371, the
// audience-injection attack on private_key_jwt) may have produced the
// assertion for that party, who can then replay it here. A single-element
// array carries the same meaning as the string (RFC 7519 §4.1.3) and
// draft-ietf-oauth-rfc7523bis (since -03) allows it; FAPI 2.0 leaves its
// form to the client.
func checkAssertionAudience(raw json.RawMessage, accepted []string) error {
	var aud string
	if err := json.Unmarshal(raw, &aud); err != nil {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
			return fosite.ErrInvalidClient.WithHint("The client_assertion 'aud' must be this server's issuer identifier, as a string or a one-element array.")
		}
		aud = list[0]
	}
	for _, a := range accepted {
		if aud == a {
			return nil
		}
	}
	return fosite.ErrInvalidClient.WithHint("The client_assertion 'aud' must be this server's issuer identifier.")
}

// verifyAssertionSignature verifies a client assertion with the client's
// registered keys for its token_endpoint_auth_signing_alg
// (VerifyWithClientKeys); any failure is invalid_client.
func (p *Authenticator) verifyAssertionSignature(ctx context.Context, c fosite.OpenIDConnectClient, jws *jose.JSONWebSignature) error {
	registered := c.GetTokenEndpointAuthSigningAlgorithm()
	if sc, ok := c.(*authz.Client); ok {
		registered = sc.Registration().Metadata.TokenEndpointAuthSigningAlg
	}
	err := p.VerifyWithClientKeys(ctx, c, jws, registered)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoClientKeys):
		return fosite.ErrInvalidClient.WithHint("The client has no keys registered.")
	case errors.Is(err, ErrClientKeysUnavailable):
		return fosite.ErrInvalidClient.WithHint("The client's JWK Set could not be fetched.").WithWrap(err)
	default:
		return fosite.ErrInvalidClient.WithHint("The client_assertion signature does not verify with a key the client registered for its algorithm.")
	}
}

// Errors of VerifyWithClientKeys.
var (
	// ErrNoClientKeys: the client registered neither jwks nor jwks_uri.
	ErrNoClientKeys = errors.New("the client has no keys registered")
	// ErrClientKeysUnavailable: the client's jwks_uri could not be fetched.
	ErrClientKeysUnavailable = errors.New("the client's JWK Set could not be fetched")
	// ErrClientSignature: no key the client registered for the JWS's
	// algorithm verifies it.
	ErrClientSignature = errors.New("the signature does not verify with a key the client registered for its algorithm")
)

// VerifyWithClientKeys verifies a single-signature jws (a client assertion,
// a request object) with the client's registered keys: jwks, or jwks_uri
// fetched through fosite's cache, refetched once (rate limited) when no key
// matches: the client may have rotated. A key is a candidate when its kid
// matches the header's (if any), it is a signing key, and the header alg is
// the one it is registered for: its "alg", else registered when the key
// fits it, else the one its type implies (RSA: RS256, EC: ES256/384/512 by
// curve). It returns nil or an error wrapping ErrNoClientKeys,
// ErrClientKeysUnavailable or ErrClientSignature.
func (p *Authenticator) VerifyWithClientKeys(ctx context.Context, c fosite.OpenIDConnectClient, jws *jose.JSONWebSignature, registered string) error {
	if len(jws.Signatures) != 1 {
		return ErrClientSignature
	}
	h := jws.Signatures[0].Header
	verify := func(set *fositejose.JSONWebKeySet) (tried bool, ok bool) {
		if set == nil {
			return false, false
		}
		for _, k := range set.Keys {
			if h.KeyID != "" && k.KeyID != h.KeyID || k.Use != "" && k.Use != "sig" {
				continue
			}
			alg := k.Algorithm
			switch {
			case alg != "":
			case registered != "" && keyFitsAlg(k.Key, registered):
				alg = registered // e.g. PS256 with an RSA key that names no alg
			default:
				alg = authz.AlgForKey(k.Key)
			}
			if alg != h.Algorithm {
				continue
			}
			switch k.Key.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				continue
			}
			tried = true
			if _, err := jws.Verify(k.Key); err == nil {
				return true, true
			}
		}
		return tried, false
	}
	if set := c.GetJSONWebKeys(); set != nil {
		if _, ok := verify(set); ok {
			return nil
		}
		return ErrClientSignature
	}
	uri := c.GetJSONWebKeysURI()
	if uri == "" {
		return ErrNoClientKeys
	}
	fetcher := p.jwks(ctx)
	for _, force := range []bool{false, true} {
		if force && !p.refresh.allow(uri, p.now()) {
			break
		}
		set, err := fetcher.Resolve(ctx, uri, force)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrClientKeysUnavailable, err)
		}
		if tried, ok := verify(set); ok {
			return nil
		} else if tried {
			break // a matching key did not verify: refetching would not help
		}
	}
	return ErrClientSignature
}

// keyFitsAlg reports whether a public key can verify alg: RSA keys RS* and
// PS*, EC keys the ES algorithm of their curve, Ed25519 keys EdDSA.
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return authz.AlgForKey(k) == alg
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

// jwksRefreshInterval is how often a client's jwks_uri may be refetched
// outside fosite's cache.
const jwksRefreshInterval = 30 * time.Second

// jwksRefreshLimiter allows a forced refetch of a jwks_uri at most once per
// interval. The refetch is triggered by a request naming a kid the cached set
// lacks, before anything authenticates it, so without a limit anyone could
// make the server fetch a client's JWK Set on every request.
type jwksRefreshLimiter struct {
	mu    sync.Mutex
	every time.Duration
	last  map[string]time.Time // by jwks_uri; bounded by the registered clients
}

func newJWKSRefreshLimiter(every time.Duration) *jwksRefreshLimiter {
	return &jwksRefreshLimiter{every: every, last: map[string]time.Time{}}
}

// allow reports whether uri may be refetched now, and if so records it.
func (l *jwksRefreshLimiter) allow(uri string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[uri]; ok && now.Sub(t) < l.every {
		return false
	}
	l.last[uri] = now
	return true
}
