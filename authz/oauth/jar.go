package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// JWT-Secured Authorization Requests (RFC 9101), by value: the "request"
// parameter at the PAR endpoint and at the authorization endpoint. A
// request object is verified here, before fosite sees the request, and its
// claims replace the request's parameters: fosite merges a request object
// with the parameters beside it (and only looks at one when the scope has
// openid); RFC 9101 §6.3 and FAPI 2.0 Message Signing want the parameters
// outside the object ignored, except client_id.

// Request object limits.
const (
	// requestObjectMaxLifetime caps exp - now (and exp - nbf): FAPI 2.0
	// Message Signing §5.3.1 ("no longer than 60 minutes").
	requestObjectMaxLifetime = 60 * time.Minute
	// requestObjectClockSkew is how far in the future nbf (and iat) may lie.
	requestObjectClockSkew = 10 * time.Second
	// maxRequestObjectJTILen bounds the recorded jti.
	maxRequestObjectJTILen = clientauth.MaxJTILen
	// jarJTINamespace keeps request object jtis apart from client
	// assertion jtis in the one jti store.
	jarJTINamespace = "jar:"
)

// fapi2RequestObjectAlgs are the algorithms a FAPI 2.0 client's request
// objects may use (FAPI 2.0 SP §5.4.1).
var fapi2RequestObjectAlgs = []string{"PS256", "ES256", "EdDSA"}

// jwtOnlyClaims are the claims of a request object that are about the JWT,
// not authorization request parameters, and client credentials, which do
// not belong in a request (at PAR they are read beside the object).
var jwtOnlyClaims = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub", "client_secret", "client_assertion", "client_assertion_type"}

// requestObjectTypes are the typ headers a request object may carry (RFC
// 9101 §10.8: oauth-authz-req+jwt; JWT, as older clients send); none is
// accepted too.
var requestObjectTypes = map[string]bool{"oauth-authz-req+jwt": true, "application/oauth-authz-req+jwt": true, "jwt": true}

// errRequestObject is invalid_request_object (RFC 9101 §6.3) with a hint.
func errRequestObject(hint string) *fosite.RFC6749Error {
	return fosite.ErrInvalidRequestObject.WithHint(hint)
}

// requestObjectClaims are the claims checked for every request object; the
// rest become the request's parameters.
type requestObjectClaims struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	Nbf *json.Number    `json:"nbf"`
	Iat *json.Number    `json:"iat"`
	Jti string          `json:"jti"`
}

// requestObject is a verified request object whose jti is not yet
// recorded (use records it).
type requestObject struct {
	params   url.Values // its claims as authorization request parameters
	clientID string
	jti      string
	exp      time.Time
}

// requestObjectForm verifies the request object of an authorization
// request (form's "request") and returns the request's parameters: the
// object's claims, with client_id, and extra (client authentication at
// PAR) from form; every other parameter outside the object is dropped
// (RFC 9101 §6.3). clientID is the client the request names outside the
// object ("" at PAR when the client authenticates with a Basic header or
// an assertion: the object's iss names it, and the caller checks it
// against the authenticated client). ro is nil when form has no "request".
// The object's jti is not recorded yet: the caller records it (use) once
// the request is otherwise accepted, so a caller who cannot authenticate
// as the client cannot burn it.
func (p *core) requestObjectForm(ctx context.Context, form url.Values, clientID string, extra []string) (ro *requestObject, err error) {
	raw := form.Get("request")
	if raw == "" {
		if form.Has("request") {
			return nil, errRequestObject("The request parameter is empty.")
		}
		return nil, nil
	}
	if form.Get("request_uri") != "" {
		return nil, fosite.ErrInvalidRequest.WithHint("The request and request_uri parameters cannot be used together.")
	}
	ro, err = p.verifyRequestObject(ctx, raw, clientID)
	if err != nil {
		return nil, err
	}
	for _, k := range extra {
		if v, ok := form[k]; ok {
			ro.params[k] = slices.Clone(v)
		}
	}
	return ro, nil
}

// use records the object's jti (single use); a replay is
// invalid_request_object.
func (p *core) useRequestObject(ctx context.Context, ro *requestObject) error {
	// jtis are unique per issuer, so they are recorded under the client,
	// in their own namespace of the jti store.
	err := p.store.UseJTI(ctx, jarJTINamespace+ro.clientID+":"+ro.jti, ro.exp)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return errRequestObject("The request object has been used before (its jti is single use).")
	case err != nil:
		return authz.MapError(fosite.ErrServerError.WithWrap(err).WithDebug("recording the request object jti failed"))
	}
	return nil
}

// verifyRequestObject verifies a request object (RFC 9101 §6, FAPI 2.0
// Message Signing §5.3.1) and returns its claims as authorization request
// parameters. Every refusal is invalid_request_object:
//   - it must be a JWS (compact, one signature) with an asymmetric
//     algorithm the server supports (registration.RequestObjectAlgs; a FAPI
//     2.0 client only PS256, ES256 or EdDSA), never "none", and the
//     client's registered request_object_signing_alg when it has one;
//   - signed by a key the client registered (jwks or jwks_uri);
//   - iss and client_id are the client (and the client_id outside, when
//     given); aud is the issuer (a string or a one-element array);
//   - exp is required, in the future and at most 60 minutes ahead (and
//     after nbf); nbf, required of FAPI 2.0 clients, at most 10 s ahead and
//     at most 60 minutes old; iat at most 10 s ahead;
//   - jti is required (useRequestObject records it: single use);
//   - it may not itself carry request or request_uri.
func (p *core) verifyRequestObject(ctx context.Context, raw, outerClientID string) (*requestObject, error) {
	if strings.Count(raw, ".") == 4 {
		return nil, errRequestObject("Encrypted request objects are not supported; sign the request object (JWS).")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(registration.RequestObjectAlgs))
	for _, a := range registration.RequestObjectAlgs {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, errRequestObject("The request object is not a JWS signed with a supported algorithm (" + strings.Join(registration.RequestObjectAlgs, ", ") + "; never none).").WithWrap(err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errRequestObject("The request object must carry exactly one signature.")
	}
	alg := jws.Signatures[0].Header.Algorithm
	// RFC 9101 §10.8: explicit typing keeps other JWTs of the client (a
	// client assertion, a DPoP proof) from passing for a request object
	if typ, ok := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string); ok && !requestObjectTypes[strings.ToLower(typ)] {
		return nil, errRequestObject("The request object's typ must be oauth-authz-req+jwt (or JWT).")
	}
	payload := jws.UnsafePayloadWithoutVerification()
	var claims requestObjectClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errRequestObject("The request object claims are malformed.").WithWrap(err)
	}
	var all map[string]any
	dec = json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil || all == nil {
		return nil, errRequestObject("The request object claims are not a JSON object.")
	}
	objClientID, _ := all["client_id"].(string)
	switch {
	case claims.Iss == "":
		return nil, errRequestObject("The request object must carry an 'iss' claim naming the client.")
	case objClientID == "":
		return nil, errRequestObject("The request object must carry the client_id.")
	case claims.Iss != objClientID:
		return nil, errRequestObject("The request object's 'iss' must be its client_id.")
	case outerClientID != "" && outerClientID != objClientID:
		// RFC 9101 §5: the client_id outside must match the one inside
		return nil, errRequestObject("The client_id of the request object differs from the client_id of the request.")
	}
	if _, ok := all["request"]; ok {
		return nil, errRequestObject("A request object must not contain a request parameter.")
	}
	if _, ok := all["request_uri"]; ok {
		return nil, errRequestObject("A request object must not contain a request_uri parameter.")
	}

	sc, err := p.clients.Get(ctx, objClientID)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, authz.MapError(err)
		}
		return nil, fosite.ErrInvalidClient.WithHint("The requested OAuth 2.0 Client does not exist.").WithWrap(err)
	}
	md := sc.Registration().Metadata
	if md.IsFAPI2() && !slices.Contains(fapi2RequestObjectAlgs, alg) {
		return nil, errRequestObject(fmt.Sprintf("FAPI 2.0 clients must sign request objects with PS256, ES256 or EdDSA, not %s.", truncate(alg, 64)))
	}
	if want := md.RequestObjectSigningAlg; want != "" && alg != want {
		return nil, errRequestObject(fmt.Sprintf("The request object must be signed with the client's registered request_object_signing_alg %s, not %s.", want, truncate(alg, 64)))
	}
	if err := checkRequestObjectAudience(claims.Aud, p.cfg.Issuer); err != nil {
		return nil, err
	}
	exp, err := p.checkRequestObjectTimes(claims, md.IsFAPI2())
	if err != nil {
		return nil, err
	}
	if claims.Jti == "" || len(claims.Jti) > maxRequestObjectJTILen {
		return nil, errRequestObject(fmt.Sprintf("The request object must carry a 'jti' claim of 1 to %d bytes.", maxRequestObjectJTILen))
	}
	if err := p.clientAuth.VerifyWithClientKeys(ctx, sc, jws, md.RequestObjectSigningAlg); err != nil {
		if errors.Is(err, clientauth.ErrClientKeysUnavailable) {
			return nil, errRequestObject("The client's JWK Set could not be fetched.").WithWrap(err)
		}
		if errors.Is(err, clientauth.ErrNoClientKeys) {
			return nil, errRequestObject("The client has no keys registered to verify request objects.")
		}
		return nil, errRequestObject("The request object signature does not verify with a key the client registered for its algorithm.")
	}
	params, err := requestObjectParams(all)
	if err != nil {
		return nil, err
	}
	return &requestObject{params: params, clientID: objClientID, jti: claims.Jti, exp: exp}, nil
}

// checkRequestObjectAudience accepts an aud that is exactly the issuer, as
// a string or a one-element array (RFC 9101 §4: "the value SHOULD be ...
// the Issuer Identifier"); a second value could make the object good for
// another server too.
func checkRequestObjectAudience(raw json.RawMessage, issuer string) error {
	if len(raw) == 0 {
		return errRequestObject("The request object must carry an 'aud' claim naming this server's issuer identifier.")
	}
	var aud string
	if err := json.Unmarshal(raw, &aud); err != nil {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
			return errRequestObject("The request object 'aud' must be this server's issuer identifier, as a string or a one-element array.")
		}
		aud = list[0]
	}
	if aud != issuer {
		return errRequestObject("The request object 'aud' must be this server's issuer identifier.")
	}
	return nil
}

// checkRequestObjectTimes checks exp, nbf and iat against the clock and
// returns exp. nbf is required of FAPI 2.0 clients.
func (p *core) checkRequestObjectTimes(c requestObjectClaims, fapi bool) (time.Time, error) {
	now := p.now()
	exp, err := jwtNumericDate(c.Exp)
	switch {
	case c.Exp == nil || err != nil:
		return time.Time{}, errRequestObject("The request object must carry a numeric 'exp' claim.")
	case !now.Before(exp):
		return time.Time{}, errRequestObject("The request object has expired.")
	case exp.Sub(now) > requestObjectMaxLifetime:
		return time.Time{}, errRequestObject(fmt.Sprintf("The request object expires too far in the future (at most %s).", requestObjectMaxLifetime))
	}
	if c.Nbf == nil && fapi {
		return time.Time{}, errRequestObject("FAPI 2.0 request objects must carry an 'nbf' claim.")
	}
	if c.Nbf != nil {
		nbf, err := jwtNumericDate(c.Nbf)
		switch {
		case err != nil:
			return time.Time{}, errRequestObject("The request object 'nbf' claim is not a valid NumericDate.")
		case nbf.Sub(now) > requestObjectClockSkew:
			return time.Time{}, errRequestObject(fmt.Sprintf("The request object 'nbf' lies more than %s in the future.", requestObjectClockSkew))
		case now.Sub(nbf) > requestObjectMaxLifetime:
			return time.Time{}, errRequestObject(fmt.Sprintf("The request object 'nbf' lies more than %s in the past.", requestObjectMaxLifetime))
		case exp.Sub(nbf) > requestObjectMaxLifetime:
			return time.Time{}, errRequestObject(fmt.Sprintf("The request object lives too long (exp - nbf at most %s).", requestObjectMaxLifetime))
		}
	}
	if c.Iat != nil {
		iat, err := jwtNumericDate(c.Iat)
		if err != nil {
			return time.Time{}, errRequestObject("The request object 'iat' claim is not a valid NumericDate.")
		}
		if iat.Sub(now) > requestObjectClockSkew {
			return time.Time{}, errRequestObject(fmt.Sprintf("The request object 'iat' lies more than %s in the future.", requestObjectClockSkew))
		}
	}
	return exp, nil
}

// jwtNumericDate reads a JWT NumericDate (RFC 7519 §2); values outside
// years 1970–9999 are refused.
func jwtNumericDate(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, errors.New("missing")
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 253402300799 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	return time.Unix(int64(f), 0), nil
}

// requestObjectParams turns a request object's claims into authorization
// request parameters (RFC 9101 §4: the claims are the parameters): strings
// as they are; integers (max_age) in decimal; booleans as true/false; an
// array of strings (resource) as repeated values; any other JSON value
// (claims, authorization_details) as its JSON text, as it would arrive in
// a form. The JWT's own claims (iss, aud, exp, nbf, iat, jti, sub) are
// not parameters.
func requestObjectParams(all map[string]any) (url.Values, error) {
	out := url.Values{}
	for k, v := range all {
		if slices.Contains(jwtOnlyClaims, k) {
			continue
		}
		switch v := v.(type) {
		case nil:
		case string:
			out.Set(k, v)
		case json.Number:
			if i, err := v.Int64(); err == nil {
				out.Set(k, strconv.FormatInt(i, 10))
			} else {
				out.Set(k, v.String())
			}
		case bool:
			out.Set(k, strconv.FormatBool(v))
		case []any:
			strs := make([]string, 0, len(v))
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					strs = nil
					break
				}
				strs = append(strs, s)
			}
			if strs != nil && k != "authorization_details" {
				out[k] = strs
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, errRequestObject(fmt.Sprintf("The request object claim %q cannot be read.", truncate(k, 64)))
			}
			out.Set(k, string(b))
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, errRequestObject(fmt.Sprintf("The request object claim %q cannot be read.", truncate(k, 64)))
			}
			out.Set(k, string(b))
		}
	}
	return out, nil
}

// requiresSignedRequestObject reports whether c registered
// require_signed_request_object (FAPI 2.0 Message Signing clients must).
func requiresSignedRequestObject(c fosite.Client) bool {
	sc, ok := c.(*authz.Client)
	return ok && sc.Registration().Metadata.RequireSignedRequestObject
}

// errSignedRequestObjectRequired refuses an unsigned request of a client
// that registered require_signed_request_object (RFC 9101 §10.5).
func errSignedRequestObjectRequired() *fosite.RFC6749Error {
	return fosite.ErrInvalidRequest.WithHint("This client must send its authorization requests as signed request objects (the request parameter, RFC 9101).")
}
