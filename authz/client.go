package authz

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"time"

	// go-jose v3: the JWK types of fosite's Client interface
	fositejose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// Client adapts a storage.Client to fosite's client interfaces.
type Client struct {
	c    *storage.Client
	jwks *fositejose.JSONWebKeySet
	now  func() time.Time // decides which secrets are live; time.Now when nil
}

var (
	_ fosite.Client                   = (*Client)(nil)
	_ fosite.OpenIDConnectClient      = (*Client)(nil)
	_ fosite.ClientWithSecretRotation = (*Client)(nil)
	_ fosite.ResponseModeClient       = (*Client)(nil)
)

// NewClient wraps c; it parses the client's JWK Set once.
func NewClient(c *storage.Client) (*Client, error) {
	cl := &Client{c: c}
	if len(c.JWKS) > 0 {
		var set fositejose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil {
			return nil, fmt.Errorf("client %s: parse jwks: %w", c.ID, err)
		}
		// RFC 7517 §4.2: "use" is optional; fosite only considers keys marked
		// "sig", so a key without it is a signing key here.
		for i := range set.Keys {
			if set.Keys[i].Use == "" {
				set.Keys[i].Use = "sig"
			}
		}
		cl.jwks = &set
	}
	return cl, nil
}

// Registration returns the client's stored registration (read-only by convention).
func (c *Client) Registration() *storage.Client { return c.c }

// liveSecrets returns the hashes of unexpired secrets, newest first.
func (c *Client) liveSecrets() [][]byte {
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	var out [][]byte
	for i := len(c.c.Secrets) - 1; i >= 0; i-- {
		s := c.c.Secrets[i]
		if s.ExpiresAt != nil && !s.ExpiresAt.After(now) {
			continue
		}
		out = append(out, s.Hash)
	}
	return out
}

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.c.ID }

// DisplayName is the name shown to users: the registered client_name, or
// the client id when it has none.
func (c *Client) DisplayName() string {
	if c.c.Name != "" {
		return c.c.Name
	}
	return c.c.ID
}

// LogoURI is the registered logo_uri (RFC 7591 §2), or "".
func (c *Client) LogoURI() string { return c.c.Metadata.LogoURI }

// GetHashedSecret implements fosite.Client: the newest live secret's hash.
func (c *Client) GetHashedSecret() []byte {
	if s := c.liveSecrets(); len(s) > 0 {
		return s[0]
	}
	return nil
}

// GetRotatedHashes implements fosite.ClientWithSecretRotation: the other live secrets.
func (c *Client) GetRotatedHashes() [][]byte {
	if s := c.liveSecrets(); len(s) > 1 {
		return s[1:]
	}
	return nil
}

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.c.RedirectURIs }

// GetGrantTypes implements fosite.Client.
func (c *Client) GetGrantTypes() fosite.Arguments { return c.c.GrantTypes }

// GetResponseTypes implements fosite.Client.
func (c *Client) GetResponseTypes() fosite.Arguments {
	if len(c.c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return c.c.ResponseTypes
}

// GetScopes implements fosite.Client.
func (c *Client) GetScopes() fosite.Arguments { return c.c.Scopes }

// IsPublic implements fosite.Client.
func (c *Client) IsPublic() bool { return c.c.Public }

// GetAudience implements fosite.Client.
func (c *Client) GetAudience() fosite.Arguments { return c.c.Audience }

// GetRequestURIs implements fosite.OpenIDConnectClient; request_uri
// registration is not supported.
func (c *Client) GetRequestURIs() []string { return nil }

// GetJSONWebKeys implements fosite.OpenIDConnectClient.
func (c *Client) GetJSONWebKeys() *fositejose.JSONWebKeySet { return c.jwks }

// GetJSONWebKeysURI implements fosite.OpenIDConnectClient.
func (c *Client) GetJSONWebKeysURI() string { return c.c.JWKSURI }

// GetRequestObjectSigningAlgorithm implements fosite.OpenIDConnectClient:
// the registered request_object_signing_alg ("" = any the server accepts).
func (c *Client) GetRequestObjectSigningAlgorithm() string {
	return c.c.Metadata.RequestObjectSigningAlg
}

// GetTokenEndpointAuthMethod implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthMethod() string {
	if c.c.TokenEndpointAuthMethod == "" {
		if c.c.Public {
			return storage.AuthMethodNone
		}
		return storage.AuthMethodSecretBasic
	}
	return c.c.TokenEndpointAuthMethod
}

// GetTokenEndpointAuthSigningAlgorithm implements fosite.OpenIDConnectClient.
// fosite pins one algorithm per client: the registered
// token_endpoint_auth_signing_alg, else the "alg" of the client's first
// signing key, else the one its key type implies.
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string {
	if alg := c.c.Metadata.TokenEndpointAuthSigningAlg; alg != "" {
		return alg
	}
	if c.jwks != nil {
		for _, k := range c.jwks.Keys {
			if k.Use != "" && k.Use != "sig" {
				continue
			}
			if k.Algorithm != "" {
				return k.Algorithm
			}
			return AlgForKey(k.Key)
		}
	}
	return "RS256"
}

// GetResponseModes implements fosite.ResponseModeClient.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{
		fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFragment, fosite.ResponseModeFormPost,
		ResponseModeJWT, ResponseModeQueryJWT, ResponseModeFragmentJWT, ResponseModeFormPostJWT,
	}
}

// The JARM response modes (JWT Secured Authorization Response Mode §2.3):
// the authorization response as one signed JWT in the "response" parameter.
const (
	ResponseModeJWT         fosite.ResponseModeType = "jwt" // query.jwt for code, fragment.jwt otherwise
	ResponseModeQueryJWT    fosite.ResponseModeType = "query.jwt"
	ResponseModeFragmentJWT fosite.ResponseModeType = "fragment.jwt"
	ResponseModeFormPostJWT fosite.ResponseModeType = "form_post.jwt"
)

// AccessTokenFormat is opaque unless the client asked for JWT access tokens.
func (c *Client) AccessTokenFormat() string {
	if c.c.AccessTokenFormat == storage.TokenFormatJWT {
		return storage.TokenFormatJWT
	}
	return storage.TokenFormatOpaque
}

// IDTokenAlg is the algorithm that signs this client's ID tokens ("" = server default).
func (c *Client) IDTokenAlg() string { return c.c.IDTokenSignedResponseAlg }

// AlgForKey names the JWS algorithm a public key implies.
func AlgForKey(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
		return "ES256"
	case ed25519.PublicKey:
		return "EdDSA"
	default:
		return "RS256"
	}
}
