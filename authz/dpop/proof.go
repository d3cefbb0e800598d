package dpop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	// go-jose's JSON: case-sensitive member names and duplicate members
	// refused, so this package reads a proof exactly as go-jose does.
	"github.com/go-jose/go-jose/v4/json"
)

// ProofType is the typ header every DPoP proof carries (RFC 9449 §4.2).
const ProofType = "dpop+jwt"

// HeaderName is the HTTP header a proof travels in.
const HeaderName = "DPoP"

// NonceHeaderName is the HTTP header a server nonce travels in.
const NonceHeaderName = "DPoP-Nonce"

// DefaultAlgorithms returns the proof algorithms accepted unless configured
// otherwise: the asymmetric ones FAPI 2.0 and RFC 9449 deployments use
// (FAPI 2.0 clients must not use RS256: pass their own list). "Ed25519" is
// the fully-specified name of EdDSA over Ed25519 (RFC 9864) that current
// clients (panva's dpop and oauth4webapi) put in their proofs.
func DefaultAlgorithms() []string { return []string{"ES256", "PS256", "EdDSA", "Ed25519", "RS256"} }

// asymmetric lists every algorithm a Config may allow; HMAC and "none" are
// not here, so they can never be configured.
var asymmetric = map[string]bool{
	"ES256": true, "ES384": true, "ES512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"EdDSA": true, "Ed25519": true,
}

// Defaults of Config.
const (
	DefaultMaxAge        = 60 * time.Second
	DefaultFutureSkew    = 10 * time.Second // FAPI 2.0 SP: accept up to 10 s ahead
	DefaultMaxProofBytes = 8 << 10
)

// Bounds on the parts of a proof, checked before anything is parsed.
const (
	maxHeaderBytes = 4 << 10 // decoded protected header
	maxClaimsBytes = 4 << 10 // decoded claims
	maxJTILen      = 256
	maxMethodLen   = 32
	maxTokenLen    = 16 << 10 // an access token whose ath is checked
	minRSABits     = 2048
	maxRSABits     = 8192
)

// privateJWKMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Config configures a Verifier. Only ReplayCache is required.
type Config struct {
	// Algorithms is the allow-list of proof algorithms (DefaultAlgorithms()
	// when empty). Only asymmetric JWS algorithms may be listed.
	Algorithms []string
	// MaxAge is how far in the past a proof's iat may be (DefaultMaxAge
	// when zero).
	MaxAge time.Duration
	// FutureSkew is how far in the future a proof's iat may be, for clients
	// whose clocks run ahead (DefaultFutureSkew when zero).
	FutureSkew time.Duration
	// MaxProofBytes bounds the proof (DefaultMaxProofBytes when zero).
	MaxProofBytes int
	// ReplayCache records every accepted proof so it is accepted once.
	ReplayCache ReplayCache
	// Nonces issues and checks server nonces; nil turns nonces off (a nonce
	// claim is then ignored and Request.RequireNonce is an error).
	Nonces NonceSource
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	algs       []string
	joseAlgs   map[string][]jose.SignatureAlgorithm
	maxAge     time.Duration
	futureSkew time.Duration
	maxProof   int
	replay     ReplayCache
	nonces     NonceSource
	now        func() time.Time
}

// NewVerifier validates cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.ReplayCache == nil {
		return nil, errors.New("dpop: a ReplayCache is required")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms()
	}
	v := &Verifier{
		algs:       slices.Clone(algs),
		joseAlgs:   make(map[string][]jose.SignatureAlgorithm, len(algs)),
		maxAge:     orDefault(cfg.MaxAge, DefaultMaxAge),
		futureSkew: orDefault(cfg.FutureSkew, DefaultFutureSkew),
		maxProof:   cfg.MaxProofBytes,
		replay:     cfg.ReplayCache,
		nonces:     cfg.Nonces,
		now:        cfg.Now,
	}
	for _, a := range algs {
		if !asymmetric[a] {
			return nil, fmt.Errorf("dpop: algorithm %q is not an asymmetric JWS algorithm", a)
		}
		v.joseAlgs[a] = []jose.SignatureAlgorithm{jose.SignatureAlgorithm(a)}
	}
	if v.maxAge < 0 || v.futureSkew < 0 {
		return nil, errors.New("dpop: MaxAge and FutureSkew must not be negative")
	}
	if v.maxProof <= 0 {
		v.maxProof = DefaultMaxProofBytes
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Algorithms returns the accepted proof algorithms, for discovery
// (dpop_signing_alg_values_supported) and WWW-Authenticate challenges.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.algs) }

// Nonce returns the server nonce to send now in a DPoP-Nonce header, or ""
// when nonces are off.
func (v *Verifier) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.Nonce(v.now())
}

// Request is what a proof is checked against.
type Request struct {
	// Proof is the value of the request's single DPoP header (see
	// ProofFromHeader).
	Proof string
	// Method is the HTTP method of the request.
	Method string
	// URI is the absolute target URI of the request as the client addressed
	// it: the server's public origin and the request path (the query and
	// fragment are ignored).
	URI string
	// AccessToken, when set, is the access token that came with the proof
	// (at a protected resource): the proof must then carry its ath.
	AccessToken string
	// RequireNonce makes a proof without a nonce fail with use_dpop_nonce.
	// A nonce a proof carries is always checked when nonces are on.
	RequireNonce bool
	// BoundJKT, when set, is the thumbprint the token or code in play is
	// bound to: the proof must be signed by that key.
	BoundJKT string
	// Algorithms, when set, narrows the Verifier's allow-list for this
	// request (e.g. FAPI 2.0 clients: PS256, ES256, EdDSA; no RS256).
	Algorithms []string
	// DeferReplay leaves the proof's single use to the caller: Verify does
	// not record it, and the caller must record Proof.ReplayKey until
	// Proof.ReplayUntil (storage.JTIs.CreateRequestOnce, with the token the
	// proof binds) and refuse the request if it was recorded already
	// (Replayed). Only for a Verifier whose cache is the store's
	// (RecordsInStore).
	DeferReplay bool
}

// Proof is an accepted proof.
type Proof struct {
	// JKT is the base64url RFC 7638 SHA-256 thumbprint of the proof's key:
	// the value of cnf.jkt in tokens bound to it.
	JKT string
	// Key is the proof's public key.
	Key jose.JSONWebKey
	// Algorithm is the proof's alg.
	Algorithm string
	// JTI, IssuedAt, Method, URI and Nonce are the checked claims (URI
	// normalised; Nonce "" when none was sent).
	JTI      string
	IssuedAt time.Time
	Method   string
	URI      string
	Nonce    string
	// ReplayKey and ReplayUntil are the proof's replay record (ReplayKey of
	// its jkt and jti) and how long it must be kept.
	ReplayKey   string
	ReplayUntil time.Time
}

// proofHeader is the protected header of a proof.
type proofHeader struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
}

// proofClaims are the claims of a proof; pointers tell missing from empty.
type proofClaims struct {
	JTI   *string  `json:"jti"`
	HTM   *string  `json:"htm"`
	HTU   *string  `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   *string  `json:"ath"`
	Nonce *string  `json:"nonce"`
}

// Verify checks req.Proof against the request per RFC 9449 §4.3 and, when
// every check passes, records it in the replay cache. It returns an *Error
// for every refusal.
func (v *Verifier) Verify(ctx context.Context, req Request) (*Proof, error) {
	now := v.now()
	p, jws, jwk, err := v.parse(req.Proof, req.Algorithms)
	if err != nil {
		return nil, err
	}
	claims, err := verifySignature(req.Proof, p.Algorithm, jws, jwk)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(p, claims, req, now); err != nil {
		return nil, err
	}
	if err := v.checkNonce(p, claims, req, now); err != nil {
		return nil, err
	}
	if req.BoundJKT != "" {
		if err := CheckBinding(req.BoundJKT, p.JKT); err != nil {
			return nil, err
		}
	}
	// No node accepts the proof after iat+maxAge, and iat <= now+futureSkew:
	// recording it until now+maxAge+futureSkew outlives it, with maxAge to
	// spare for a backend whose clock runs ahead of ours.
	p.ReplayKey, p.ReplayUntil = ReplayKey(p.JKT, p.JTI), now.Add(v.maxAge+v.futureSkew)
	if req.DeferReplay {
		return p, nil
	}
	if err := v.replay.Use(ctx, p.ReplayKey, p.ReplayUntil); err != nil {
		if errors.Is(err, ErrReplay) {
			return nil, Replayed()
		}
		return nil, &Error{Code: CodeInvalidProof, Description: "The DPoP proof could not be checked for replay.",
			reason: ErrReplayCache, cause: err}
	}
	return p, nil
}

// Replayed is the error of a proof used before (a caller that recorded
// it, DeferReplay, found it recorded).
func Replayed() *Error { return invalid(ErrReplay, "The DPoP proof has already been used.") }

// RecordsInStore reports whether v's replay cache is a StoreReplayCache:
// a caller may then record proofs itself with the tokens they bind
// (Request.DeferReplay) in the same store.
func (v *Verifier) RecordsInStore() bool {
	_, ok := v.replay.(*StoreReplayCache)
	return ok
}

// parse bounds the proof, reads its protected header, checks typ, alg and
// jwk, and parses it as a JWS. It returns the partly filled Proof, the JWS
// and its key (the one go-jose read from the header: the jwk is parsed and
// its point validated once).
func (v *Verifier) parse(proof string, narrowed []string) (*Proof, *jose.JSONWebSignature, *jose.JSONWebKey, error) {
	if proof == "" {
		return nil, nil, nil, invalid(ErrNoProof, "A DPoP proof is required.")
	}
	if len(proof) > v.maxProof {
		return nil, nil, nil, invalid(ErrTooLarge, fmt.Sprintf("The DPoP proof is longer than %d bytes.", v.maxProof))
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, nil, nil, invalid(ErrMalformed, "The DPoP proof is not a signed JWT in compact serialization.")
	}
	if base64.RawURLEncoding.DecodedLen(len(parts[0])) > maxHeaderBytes {
		return nil, nil, nil, invalid(ErrTooLarge, "The DPoP proof header is too large.")
	}
	if base64.RawURLEncoding.DecodedLen(len(parts[1])) > maxClaimsBytes {
		return nil, nil, nil, invalid(ErrTooLarge, "The DPoP proof claims are too large.")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, nil, invalidCause(ErrMalformed, "The DPoP proof header is not base64url.", err)
	}
	var h proofHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, nil, nil, invalidCause(ErrMalformed, "The DPoP proof header is not a JSON object of the expected types.", err)
	}
	if h.Typ != ProofType {
		return nil, nil, nil, invalid(ErrType, "The DPoP proof typ must be dpop+jwt.")
	}
	if _, ok := v.joseAlgs[h.Alg]; !ok {
		return nil, nil, nil, invalid(ErrAlgorithm, "The DPoP proof alg must be one of "+strings.Join(v.algs, ", ")+".")
	}
	if len(narrowed) > 0 && !slices.Contains(narrowed, h.Alg) {
		return nil, nil, nil, invalid(ErrAlgorithm, "The DPoP proof alg must be one of "+strings.Join(narrowed, ", ")+" for this client.")
	}
	if len(h.Crit) > 0 {
		return nil, nil, nil, invalid(ErrMalformed, "The DPoP proof must not carry critical header parameters.")
	}
	if parts[2] == "" {
		return nil, nil, nil, invalid(ErrSignature, "The DPoP proof carries no signature.")
	}
	if err := noPrivateMembers(h.JWK); err != nil {
		return nil, nil, nil, err
	}
	jws, err := jose.ParseSignedCompact(proof, v.joseAlgs[h.Alg])
	if err != nil {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(h.JWK) != nil {
			return nil, nil, nil, invalidCause(ErrKey, "The DPoP proof jwk is not a valid JWK.", err)
		}
		return nil, nil, nil, invalidCause(ErrMalformed, "The DPoP proof is not a valid JWS.", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, nil, nil, invalid(ErrMalformed, "The DPoP proof must carry exactly one signature.")
	}
	jwk := jws.Signatures[0].Protected.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, nil, nil, invalid(ErrKey, "The DPoP proof jwk is not a valid public key.")
	}
	if !keyFitsAlgorithm(jwk.Key, h.Alg) {
		return nil, nil, nil, invalid(ErrKey, "The DPoP proof jwk is not a key of the proof's algorithm (RSA keys need 2048 bits or more).")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, nil, nil, invalidCause(ErrKey, "The DPoP proof jwk has no thumbprint.", err)
	}
	return &Proof{JKT: base64.RawURLEncoding.EncodeToString(tp), Key: *jwk, Algorithm: h.Alg}, jws, jwk, nil
}

// noPrivateMembers checks that the jwk header is present and carries no
// private or symmetric key material, before any JOSE library reads it.
func noPrivateMembers(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return invalid(ErrKey, "The DPoP proof header must carry the public key as jwk.")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return invalidCause(ErrKey, "The DPoP proof jwk is not a JSON object.", err)
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return invalid(ErrPrivateKey, "The DPoP proof jwk must not contain private or symmetric key material.")
		}
	}
	return nil
}

// keyFitsAlgorithm reports whether key is a public key that alg signs with.
func keyFitsAlgorithm(key any, alg string) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		rsaAlg := strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
		return rsaAlg && bits >= minRSABits && bits <= maxRSABits
	case ed25519.PublicKey:
		return alg == "EdDSA" || alg == "Ed25519"
	}
	return false
}

// verifySignature checks the proof's signature with jwk and decodes its
// claims. go-jose verifies every algorithm but "Ed25519", which it does not
// name yet: that one is crypto/ed25519's Verify over the JWS signing input
// (RFC 7515 §5.2), exactly what go-jose does for "EdDSA".
func verifySignature(proof, alg string, jws *jose.JSONWebSignature, jwk *jose.JSONWebKey) (*proofClaims, error) {
	var payload []byte
	if alg == "Ed25519" {
		key, ok := jwk.Key.(ed25519.PublicKey)
		input := proof[:strings.LastIndexByte(proof, '.')]
		if !ok || !ed25519.Verify(key, []byte(input), jws.Signatures[0].Signature) {
			return nil, invalid(ErrSignature, "The DPoP proof signature does not verify with its jwk.")
		}
		payload = jws.UnsafePayloadWithoutVerification()
	} else {
		var err error
		payload, err = jws.Verify(jwk.Key)
		if err != nil {
			return nil, invalidCause(ErrSignature, "The DPoP proof signature does not verify with its jwk.", err)
		}
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalidCause(ErrMalformed, "The DPoP proof claims are not a JSON object of the expected types.", err)
	}
	return &c, nil
}

// checkClaims checks jti, htm, htu, iat and ath, and fills p.
func (v *Verifier) checkClaims(p *Proof, c *proofClaims, req Request, now time.Time) error {
	for _, m := range []struct {
		name    string
		missing bool
	}{{"jti", c.JTI == nil}, {"htm", c.HTM == nil}, {"htu", c.HTU == nil}, {"iat", c.IAT == nil}} {
		if m.missing {
			return invalid(ErrMissingClaim, "The DPoP proof must carry the "+m.name+" claim.")
		}
	}
	if n := len(*c.JTI); n == 0 || n > maxJTILen {
		return invalid(ErrJTI, fmt.Sprintf("The DPoP proof jti must be 1 to %d bytes.", maxJTILen))
	}
	p.JTI = *c.JTI
	if len(req.Method) > maxMethodLen || *c.HTM != req.Method {
		return invalid(ErrMethod, "The DPoP proof htm does not match the HTTP method of the request.")
	}
	p.Method = *c.HTM
	want, err := NormalizeHTU(req.URI)
	if err != nil {
		return invalidCause(ErrURI, "The request URI cannot be compared with the DPoP proof htu.", err)
	}
	got, err := NormalizeHTU(*c.HTU)
	if err != nil || got != want {
		return invalid(ErrURI, "The DPoP proof htu does not match the URI of the request.")
	}
	p.URI = got
	iat := *c.IAT
	if math.IsNaN(iat) || math.IsInf(iat, 0) || iat < 0 || iat > 1e11 {
		return invalid(ErrIssuedAt, "The DPoP proof iat is not a valid time.")
	}
	sec, frac := math.Modf(iat)
	p.IssuedAt = time.Unix(int64(sec), int64(frac*1e9))
	switch {
	case now.Sub(p.IssuedAt) > v.maxAge:
		return invalid(ErrIssuedAt, "The DPoP proof iat is too far in the past.")
	case p.IssuedAt.Sub(now) > v.futureSkew:
		return invalid(ErrIssuedAt, "The DPoP proof iat is too far in the future.")
	}
	if req.AccessToken != "" {
		if len(req.AccessToken) > maxTokenLen {
			return invalid(ErrAccessTokenHash, "The access token is too long.")
		}
		if c.ATH == nil {
			return invalid(ErrMissingClaim, "The DPoP proof must carry the ath claim of the access token it comes with.")
		}
		if subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(AccessTokenHash(req.AccessToken))) != 1 {
			return invalid(ErrAccessTokenHash, "The DPoP proof ath does not match the access token.")
		}
	}
	return nil
}

// checkNonce checks the nonce claim against the server's nonces.
func (v *Verifier) checkNonce(p *Proof, c *proofClaims, req Request, now time.Time) error {
	if v.nonces == nil {
		if req.RequireNonce {
			return &Error{Code: CodeInvalidProof, Description: "The server cannot check DPoP nonces.",
				reason: ErrNonce, cause: errors.New("dpop: RequireNonce without a NonceSource")}
		}
		return nil
	}
	useNonce := func(description string) error {
		return &Error{Code: CodeUseNonce, Description: description, Nonce: v.nonces.Nonce(now), reason: ErrNonce}
	}
	if c.Nonce == nil {
		if req.RequireNonce {
			return useNonce("The DPoP proof must carry the server's nonce.")
		}
		return nil
	}
	if len(*c.Nonce) > maxNonceLen || !v.nonces.Valid(*c.Nonce, now) {
		return useNonce("The DPoP proof nonce is not current.")
	}
	p.Nonce = *c.Nonce
	return nil
}

// ProofFromHeader returns the request's DPoP proof. A request with no DPoP
// header gives ErrNoProof; one with several (or one holding a list) gives
// ErrMultipleProofs (RFC 9449 §4.3 point 1). Both are *Error values.
func ProofFromHeader(h http.Header) (string, error) {
	values := h.Values(HeaderName)
	switch {
	case len(values) == 0:
		return "", invalid(ErrNoProof, "A DPoP proof is required.")
	case len(values) > 1 || strings.Contains(values[0], ","):
		return "", invalid(ErrMultipleProofs, "The request must carry exactly one DPoP header.")
	}
	return strings.TrimSpace(values[0]), nil
}

// NewRequest returns the Request for proof checking of an incoming HTTP
// request: its single DPoP header (see ProofFromHeader), its method, and its
// target URI as origin (the server's public scheme and host, e.g. the
// issuer's "https://as.example.com", never taken from the request's Host
// header) followed by the request's path. AccessToken, RequireNonce and
// BoundJKT are left for the caller.
func NewRequest(r *http.Request, origin string) (Request, error) {
	proof, err := ProofFromHeader(r.Header)
	if err != nil {
		return Request{}, err
	}
	return Request{
		Proof:  proof,
		Method: r.Method,
		URI:    strings.TrimSuffix(origin, "/") + r.URL.EscapedPath(),
	}, nil
}

// AccessTokenHash is the ath of a proof sent with token: the base64url
// SHA-256 of its ASCII (RFC 9449 §4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
