package mfa

import (
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/strongroom/strongroom/storage"
)

// Options are a Service's dependencies.
type Options struct {
	Store storage.Store
	// TOTPKey seals TOTP secrets at rest; RecoveryKey keys the hashes of
	// recovery codes. Both are 32 bytes derived from the system secret (each
	// with its own label), never the system secret itself.
	TOTPKey, RecoveryKey []byte
	// Issuer names the WebAuthn relying party (its host name) and the only
	// accepted origin; an issuer named by an IP address turns passkeys off.
	Issuer string
	// ProductName labels TOTP entries in authenticator apps and is the
	// relying party's display name.
	ProductName string
	Now         func() time.Time
}

// Service enrols and verifies a user's second factors: TOTP (RFC 6238),
// WebAuthn passkeys and one-time recovery codes. The login flow (authz)
// decides when a factor is asked for and runs each check under the
// brute-force throttle; Service only checks and records.
type Service struct {
	store       storage.Store
	box         *secretBox
	recoveryKey []byte
	webauthn    *webauthn.WebAuthn // nil: passkeys are off
	productName string
	now         func() time.Time
}

// New builds the service.
func New(o Options) (*Service, error) {
	box, err := newSecretBox(o.TOTPKey)
	if err != nil {
		return nil, err
	}
	if len(o.RecoveryKey) < 32 {
		return nil, fmt.Errorf("mfa: recovery-code key of %d bytes, want 32", len(o.RecoveryKey))
	}
	wa, err := newWebAuthn(o.Issuer, o.ProductName)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, box: box, recoveryKey: o.RecoveryKey, webauthn: wa, productName: o.ProductName, now: o.Now}, nil
}
