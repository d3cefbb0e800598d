package clientauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	// go-jose v3: the JWK types of fosite's Client interface
	fositejose "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/storage"
)

// MTLSConfigured reports whether client certificates can reach the server
// (a client CA is configured, so the TLS listener requests them, or a proxy
// forwards them in a header).
func (p *Authenticator) MTLSConfigured() bool {
	return p.clientCAs() != nil || p.certs().Header() != ""
}

// isMTLSMethod reports whether m is one of the RFC 8705 client
// authentication methods.
func isMTLSMethod(m string) bool {
	return m == storage.AuthMethodTLSClientAuth || m == storage.AuthMethodSelfSignedTLSClientAuth
}

// authenticateTLSClient authenticates a client registered for
// tls_client_auth or self_signed_tls_client_auth (RFC 8705 §2) by the
// certificate it presented. It handles a request that names its client only
// by the client_id parameter (no Basic header, secret or assertion: those
// are the other methods') and whose client is registered for one of the two
// methods; for any other request handled is false and the caller goes on
// with the other methods. Every failure is 401 invalid_client; a database
// outage is returned as is (503).
func (p *Authenticator) authenticateTLSClient(ctx context.Context, r *http.Request, form url.Values) (c fosite.Client, handled bool, err error) {
	id := form.Get("client_id")
	if id == "" || form.Has("client_secret") || r.Header.Get("Authorization") != "" {
		return nil, false, nil
	}
	client, err := p.clients.GetClient(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, true, err
		}
		return nil, false, nil // unknown: the default strategy answers invalid_client
	}
	sc, ok := client.(*authz.Client)
	if !ok || !isMTLSMethod(sc.GetTokenEndpointAuthMethod()) {
		return nil, false, nil
	}
	method := sc.GetTokenEndpointAuthMethod()
	presented, err := p.certs().FromRequest(r)
	if presented.IgnoredHeaderFrom != "" {
		p.log().WarnContext(ctx, "client certificate header from an untrusted peer ignored",
			"header", p.certs().Header(), "peer", presented.IgnoredHeaderFrom, "client_id", id)
	}
	if err != nil {
		return nil, true, fosite.ErrInvalidClient.WithWrap(err).WithHint("The client certificate could not be read.")
	}
	switch method {
	case storage.AuthMethodTLSClientAuth:
		auth := mtls.NewAuthenticator(p.clientCAs(), p.now)
		err = auth.TLSClientAuth(presented.Certificate, tlsClientAuthIdentity(sc.Registration()))
	default:
		var set *jose.JSONWebKeySet
		set, err = p.selfSignedKeys(ctx, sc)
		if err == nil {
			auth := mtls.NewAuthenticator(nil, p.now)
			err = auth.SelfSignedTLSClientAuth(presented.Certificate, set)
		}
	}
	if err != nil {
		return nil, true, mtlsClientError(method, err)
	}
	return client, true, nil
}

// tlsClientAuthIdentity is the RFC 8705 §2.1.2 subject c registered.
func tlsClientAuthIdentity(c *storage.Client) mtls.Identity {
	md := c.Metadata
	return mtls.Identity{
		SubjectDN: md.TLSClientAuthSubjectDN,
		SANDNS:    md.TLSClientAuthSANDNS,
		SANURI:    md.TLSClientAuthSANURI,
		SANIP:     md.TLSClientAuthSANIP,
		SANEmail:  md.TLSClientAuthSANEmail,
	}
}

// selfSignedKeys returns the client's registered keys (jwks, or jwks_uri
// through fosite's cache) in go-jose v4 form.
func (p *Authenticator) selfSignedKeys(ctx context.Context, c *authz.Client) (*jose.JSONWebKeySet, error) {
	set := c.GetJSONWebKeys()
	if set == nil && c.GetJSONWebKeysURI() != "" {
		fetched, err := p.jwks(ctx).Resolve(ctx, c.GetJSONWebKeysURI(), false)
		if err != nil {
			return nil, fosite.ErrInvalidClient.WithHint("The client's JWK Set could not be fetched.").WithWrap(err)
		}
		set = fetched
	}
	return toJoseV4(set), nil
}

// toJoseV4 converts fosite's (go-jose v3) key set to go-jose v4, keeping
// what certificate authentication compares: the key, its use and its x5c.
func toJoseV4(set *fositejose.JSONWebKeySet) *jose.JSONWebKeySet {
	if set == nil {
		return nil
	}
	out := &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	for _, k := range set.Keys {
		out.Keys = append(out.Keys, jose.JSONWebKey{
			Key: k.Key, KeyID: k.KeyID, Algorithm: k.Algorithm, Use: k.Use, Certificates: k.Certificates,
		})
	}
	return out
}

// mtlsClientError turns an authz/mtls error into 401 invalid_client with a
// hint that says what was wrong, never the certificate's content.
func mtlsClientError(method string, err error) error {
	var hint string
	switch {
	case errors.As(err, new(*fosite.RFC6749Error)):
		return err
	case errors.Is(err, mtls.ErrNoCertificate):
		hint = "The client must present its TLS client certificate (" + method + ")."
	case errors.Is(err, mtls.ErrUntrustedCertificate):
		hint = "The client certificate is not trusted (issuer, validity or key usage)."
	case errors.Is(err, mtls.ErrIdentityMismatch):
		hint = "The client certificate does not carry the subject the client registered."
	case errors.Is(err, mtls.ErrKeyNotRegistered):
		hint = "The client certificate's key is not among the client's registered keys."
	case errors.Is(err, mtls.ErrInvalidRegistration):
		hint = "The client's mutual-TLS registration is unusable."
	default:
		hint = "The client could not be authenticated by its TLS client certificate."
	}
	return fosite.ErrInvalidClient.WithWrap(err).WithHint(hint)
}
