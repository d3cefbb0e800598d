package memory

import (
	"slices"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Values are normalized on the way in exactly as a round trip through
// PostgreSQL normalizes them (UTC, microseconds, empty slices as nil), and
// every slice is copied on the way in and out.

func tm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func tmPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := tm(*t)
	return &u
}

func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func cloneClient(c storage.Client) storage.Client {
	c.RedirectURIs = clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = clone(c.GrantTypes)
	c.ResponseTypes = clone(c.ResponseTypes)
	c.Scopes = clone(c.Scopes)
	c.Audience = clone(c.Audience)
	c.JWKS = clone(c.JWKS)
	c.Metadata.Contacts = clone(c.Metadata.Contacts)
	c.Metadata.AuthorizationDetailsTypes = clone(c.Metadata.AuthorizationDetailsTypes)
	c.CreatedAt = tm(c.CreatedAt)
	c.UpdatedAt = tm(c.UpdatedAt)
	if len(c.Secrets) == 0 {
		c.Secrets = nil
	} else {
		secrets := make([]storage.ClientSecret, len(c.Secrets))
		for i, sec := range c.Secrets {
			secrets[i] = storage.ClientSecret{
				ID:        sec.ID,
				Hash:      clone(sec.Hash),
				CreatedAt: tm(sec.CreatedAt),
				ExpiresAt: tmPtr(sec.ExpiresAt),
			}
		}
		c.Secrets = secrets
	}
	return c
}

func cloneUser(u storage.User) storage.User {
	u.CreatedAt = tm(u.CreatedAt)
	u.UpdatedAt = tm(u.UpdatedAt)
	return u
}

func cloneKey(k storage.SigningKey) storage.SigningKey {
	k.PublicJWK = clone(k.PublicJWK)
	k.PrivateEnc = clone(k.PrivateEnc)
	k.CreatedAt = tm(k.CreatedAt)
	k.ActivatedAt = tmPtr(k.ActivatedAt)
	k.RetiredAt = tmPtr(k.RetiredAt)
	k.PublishedAt = tmPtr(k.PublishedAt)
	k.RevokedAt = tmPtr(k.RevokedAt)
	return k
}

func cloneRequest(r storage.Request) storage.Request {
	r.Data = clone(r.Data)
	r.RequestedAt = tm(r.RequestedAt)
	r.ExpiresAt = tm(r.ExpiresAt)
	if !r.DeactivatedAt.IsZero() {
		r.DeactivatedAt = tm(r.DeactivatedAt)
	}
	return r
}

func cloneFlow(f storage.AuthFlow) storage.AuthFlow {
	f.Form = clone(f.Form)
	f.AuthTime = tmPtr(f.AuthTime)
	f.CreatedAt = tm(f.CreatedAt)
	f.ExpiresAt = tm(f.ExpiresAt)
	return f
}

func cloneSession(s storage.BrowserSession) storage.BrowserSession {
	s.AMR = clone(s.AMR)
	s.AuthTime = tm(s.AuthTime)
	s.CreatedAt = tm(s.CreatedAt)
	s.LastSeenAt = tm(s.LastSeenAt)
	s.ExpiresAt = tm(s.ExpiresAt)
	return s
}

func cloneConsent(c storage.Consent) storage.Consent {
	c.Scopes = clone(c.Scopes)
	c.AuthorizationDetails = clone(c.AuthorizationDetails)
	c.GrantedAt = tm(c.GrantedAt)
	return c
}

func cloneAuthorizationType(t storage.AuthorizationType) storage.AuthorizationType {
	t.Schema = clone(t.Schema)
	t.CreatedAt = tm(t.CreatedAt)
	t.UpdatedAt = tm(t.UpdatedAt)
	return t
}
