package login

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/strongroom/strongroom/authz"
)

// CSRF binds the forms of the end-user pages to a browser (its CSRF cookie
// value) and to one flow or action (a challenge, "logout:" and a session).
type CSRF struct{ key []byte }

// NewCSRF derives the CSRF key from the system secret.
func NewCSRF(systemSecret []byte) (*CSRF, error) {
	key, err := authz.DeriveKey(systemSecret, "csrf")
	if err != nil {
		return nil, fmt.Errorf("csrf key: %w", err)
	}
	return &CSRF{key: key}, nil
}

// Token is the CSRF token of a form for the browser's cookie and challenge.
func (c *CSRF) Token(cookie, challenge string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("csrf:" + cookie + ":" + challenge))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Check verifies a submitted CSRF token in constant time.
func (c *CSRF) Check(cookie, challenge, token string) bool {
	if cookie == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(c.Token(cookie, challenge)), []byte(token))
}
