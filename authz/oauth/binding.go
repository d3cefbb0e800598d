package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/oauth/fositestore"
)

// Sender-constrained tokens (RFC 9449 DPoP, RFC 8705 §3 certificate-bound
// access tokens). The token endpoint checks a request's DPoP proof and
// client certificate after fosite has authenticated the client and
// handled the grant, and before any token is issued (bindAccessRequest);
// the binding travels in the grant's session (authz.Session JKT, X5TS256,
// CodeJKT, RefreshJKT) so that JWT access tokens, introspection and
// userinfo see it.

// Option configures the token service (New).
type Option func(*core)

// WithDPoP sets the DPoP proof verifier and the server's nonce policy
// (serve --dpop-nonce; "" is dpop.NonceOptional). Without it New builds a
// verifier over the store's replay cache with nonces from the system secret.
func WithDPoP(v *dpop.Verifier, mode dpop.NonceMode) Option {
	return func(c *core) {
		c.dpop = v
		if mode != "" {
			c.nonceMode = mode
		}
	}
}

// WithClientCertificates sets where client certificates come from (the TLS
// connection, or a trusted proxy's header). Without it only the TLS
// connection is read.
func WithClientCertificates(src *mtls.CertificateSource) Option {
	return func(c *core) {
		if src != nil {
			c.certs = src
		}
	}
}

// NewDPoPVerifier builds the DPoP verifier of a deployment: proofs single
// use through replay, nonces (unless mode is dpop.NonceOff) derived from the
// system secret so that every node issues and accepts the same ones.
func NewDPoPVerifier(systemSecret []byte, replay dpop.ReplayCache, mode dpop.NonceMode) (*dpop.Verifier, error) {
	cfg := dpop.Config{ReplayCache: replay}
	if mode != dpop.NonceOff {
		key, err := authz.DeriveKey(systemSecret, "dpop-nonce")
		if err != nil {
			return nil, err
		}
		nonces, err := dpop.NewHMACNonces(key, 0)
		if err != nil {
			return nil, fmt.Errorf("dpop nonces: %w", err)
		}
		cfg.Nonces = nonces
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		return nil, fmt.Errorf("dpop verifier: %w", err)
	}
	return v, nil
}

// fapi2ProofAlgs are the proof algorithms a FAPI 2.0 client may use (FAPI
// 2.0 SP §5.4: no RS256).
var fapi2ProofAlgs = []string{"PS256", "ES256", "EdDSA", "Ed25519"}

// binding is what the token endpoint bound a request's tokens to.
type binding struct {
	dpop bool // token_type DPoP
	// replay is the proof's replay record, when the token endpoint writes
	// it with the access token (dpop.Request.DeferReplay); nil otherwise
	// (no proof, or a replay cache outside the store that recorded it).
	replay *fositestore.PendingJTI
}

// DPoPNonce is the server nonce to send in a DPoP-Nonce header now, ""
// when nonces are off.
func (p *Tokens) DPoPNonce() string {
	if p.nonceMode == dpop.NonceOff {
		return ""
	}
	return p.dpop.Nonce()
}

// DPoPAlgorithms are the accepted proof algorithms (discovery).
func (p *Tokens) DPoPAlgorithms() []string { return p.dpop.Algorithms() }

// storageClient returns the client behind a fosite client.
func storageClient(c fosite.Client) (*authz.Client, error) {
	sc, ok := c.(*authz.Client)
	if !ok {
		return nil, fosite.ErrServerError.WithDebugf("unexpected client type %T", c)
	}
	return sc, nil
}

// proofRequest is the dpop.Request of r for client c (clientProofPolicy).
func (p *core) proofRequest(r *http.Request, c *authz.Client) (dpop.Request, error) {
	req, err := dpop.NewRequest(r, p.requestOrigin(r.Host))
	if err != nil {
		return req, err
	}
	return p.clientProofPolicy(req, c), nil
}

// clientProofPolicy applies client c's proof policy to req: nonce required
// by the server's mode and the client's policy (DPoP-bound and FAPI 2.0
// clients need nonces when the mode is optional), FAPI 2.0 algorithms.
func (p *core) clientProofPolicy(req dpop.Request, c *authz.Client) dpop.Request {
	md := c.Registration().Metadata
	req.RequireNonce = p.nonceMode.Require(md.DPoPBoundAccessTokens || md.IsFAPI2())
	if md.IsFAPI2() {
		req.Algorithms = fapi2ProofAlgs
	}
	return req
}

// proofError is a refused proof as the token endpoint answers it (RFC 9449
// §5): 400 with its code (invalid_dpop_proof, or use_dpop_nonce with the
// nonce the renderer puts in a DPoP-Nonce header, see api/render). A
// failing replay cache is a server error.
func proofError(err error) error {
	var de *dpop.Error
	if !errors.As(err, &de) {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	if de.ServerFault() {
		return fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return (&fosite.RFC6749Error{ErrorField: de.Code, DescriptionField: de.Description, CodeField: http.StatusBadRequest}).WithWrap(de)
}

// bindAccessRequest checks the sender constraint of a token request whose
// client fosite authenticated and whose grant it handled, and records the
// binding in the session the tokens are issued with:
//   - a DPoP proof (required of DPoPBoundAccessTokens clients, of FAPI 2.0
//     clients without certificate binding, of codes
//     bound with dpop_jkt and of DPoP-bound refresh tokens) binds the
//     access token to its key, and a public client's refresh token too;
//   - a code bound to one key and redeemed with a proof of another, or a
//     refresh token bound to one key refreshed with another, is
//     invalid_grant: the proof itself is valid, the grant is not this
//     key's (RFC 6749 §5.2: the grant "was issued to another client");
//   - a TLSClientCertificateBoundAccessTokens client must present a
//     certificate, whose thumbprint binds the access token.
func (p *Tokens) bindAccessRequest(ctx context.Context, r *http.Request, ar fosite.AccessRequester) (binding, error) {
	c, err := storageClient(ar.GetClient())
	if err != nil {
		return binding{}, err
	}
	sess, ok := ar.GetSession().(*authz.Session)
	if !ok {
		return binding{}, fosite.ErrServerError.WithDebug("unexpected session type")
	}
	md := c.Registration().Metadata
	code := ar.GetGrantTypes().ExactOne("authorization_code")
	refresh := ar.GetGrantTypes().ExactOne("refresh_token")
	boundCode := code && sess.CodeJKT != ""
	boundRefresh := refresh && sess.RefreshJKT != ""

	var (
		jkt    string
		replay *fositestore.PendingJTI
	)
	// A FAPI 2.0 client's tokens are always sender-constrained (FAPI 2.0
	// SP §5.3.2.2): by DPoP unless it registered certificate binding.
	fapiDPoP := md.IsFAPI2() && !md.TLSClientCertificateBoundAccessTokens
	if len(r.Header.Values(dpop.HeaderName)) > 0 || md.DPoPBoundAccessTokens || fapiDPoP || boundCode || boundRefresh {
		req, err := p.proofRequest(r, c)
		if err != nil {
			return binding{}, proofError(err)
		}
		// The proof's jti is written with the access token, in one write
		// (Token), when the replay cache is the store's.
		req.DeferReplay = p.dpop.RecordsInStore()
		proof, err := p.dpop.Verify(ctx, req)
		if err != nil {
			return binding{}, proofError(err)
		}
		jkt = proof.JKT
		if req.DeferReplay {
			replay = &fositestore.PendingJTI{Key: proof.ReplayKey, Until: proof.ReplayUntil}
		}
	}
	if boundCode && dpop.CheckBinding(sess.CodeJKT, jkt) != nil {
		return binding{}, fosite.ErrInvalidGrant.WithHint("The authorization code is bound to another DPoP key (dpop_jkt).")
	}
	if boundRefresh && dpop.CheckBinding(sess.RefreshJKT, jkt) != nil {
		return binding{}, fosite.ErrInvalidGrant.WithHint("The refresh token is bound to another DPoP key.")
	}
	sess.JKT = jkt
	if code && c.IsPublic() && jkt != "" {
		sess.RefreshJKT = jkt
	}

	sess.X5TS256 = ""
	if md.TLSClientCertificateBoundAccessTokens {
		cert, err := p.clientCertificate(ctx, r)
		if err != nil {
			return binding{}, err
		}
		if cert == nil {
			return binding{}, fosite.ErrInvalidRequest.WithHint("This client's access tokens are bound to its TLS client certificate: present one (RFC 8705 §3).")
		}
		sess.X5TS256 = mtls.Thumbprint(cert.Leaf)
	}
	return binding{dpop: jkt != "", replay: replay}, nil
}

// clientCertificate is the certificate the request came with, nil when
// none. A certificate header from an untrusted peer is logged and ignored.
func (p *core) clientCertificate(ctx context.Context, r *http.Request) (*mtls.ClientCertificate, error) {
	presented, err := p.certs.FromRequest(r)
	if presented.IgnoredHeaderFrom != "" {
		p.log.WarnContext(ctx, "client certificate header from an untrusted peer ignored", "peer", presented.IgnoredHeaderFrom, "header", p.certs.Header())
	}
	if errors.Is(err, mtls.ErrNoCertificate) {
		return nil, nil
	}
	if err != nil {
		return nil, fosite.ErrInvalidRequest.WithWrap(err).WithHint("The client certificate could not be read.")
	}
	return presented.Certificate, nil
}

// checkDPoPJKT checks the dpop_jkt parameter of an authorization or pushed
// authorization request (RFC 9449 §10): the form of a thumbprint.
func checkDPoPJKT(form url.Values) error {
	if len(form["dpop_jkt"]) > 1 {
		return fosite.ErrInvalidRequest.WithHint("The dpop_jkt parameter must not be repeated.")
	}
	if v := form.Get("dpop_jkt"); v != "" && !dpop.ValidJKT(v) {
		return fosite.ErrInvalidRequest.WithHint("The dpop_jkt parameter is not a JWK SHA-256 thumbprint.")
	}
	return nil
}

// bindPushedRequest binds a pushed authorization request to the key of its
// DPoP proof (RFC 9449 §10.1): the proof is checked like at the token
// endpoint, and its key becomes the request's dpop_jkt (a dpop_jkt that
// names another key is invalid_dpop_proof), so the code is bound to it.
func (p *Tokens) bindPushedRequest(ctx context.Context, r *http.Request, ar fosite.AuthorizeRequester) error {
	if len(r.Header.Values(dpop.HeaderName)) == 0 {
		return nil
	}
	c, err := storageClient(ar.GetClient())
	if err != nil {
		return err
	}
	req, err := p.proofRequest(r, c)
	if err != nil {
		return proofError(err)
	}
	proof, err := p.dpop.Verify(ctx, req)
	if err != nil {
		return proofError(err)
	}
	form := ar.GetRequestForm()
	if v := form.Get("dpop_jkt"); v != "" && dpop.CheckBinding(v, proof.JKT) != nil {
		return &fosite.RFC6749Error{ErrorField: dpop.CodeInvalidProof, DescriptionField: "The dpop_jkt parameter does not name the key of the DPoP proof.", CodeField: http.StatusBadRequest}
	}
	form.Set("dpop_jkt", proof.JKT)
	return nil
}
