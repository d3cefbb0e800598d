package registration

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// SecretInfo describes one client secret without revealing it.
type SecretInfo struct {
	ID        string     `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// State is "active", "expiring" (ends within the expiring-soon window) or "expired".
	State string `json:"state"`
}

// Secret states.
const (
	SecretActive   = "active"
	SecretExpiring = "expiring"
	SecretExpired  = "expired"
)

// ClientInfo is a client as listed and shown: its registration, its state
// and its secrets' metadata, never a secret or a hash.
type ClientInfo struct {
	ClientSpec
	Public  bool         `json:"public"`
	Secrets []SecretInfo `json:"secrets"`
	// SecretsExpiringSoon is set when a live secret ends within the
	// expiring-soon window (a rotation's grace, a planned expiry).
	SecretsExpiringSoon bool      `json:"secrets_expiring_soon"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Describe is c as listed and shown at now: secrets that end within
// expiringSoon are flagged.
func Describe(c *storage.Client, now time.Time, expiringSoon time.Duration) ClientInfo {
	spec := FromClient(c)
	info := ClientInfo{
		ClientSpec: spec,
		Public:     c.Public,
		Secrets:    make([]SecretInfo, 0, len(c.Secrets)),
		CreatedAt:  c.CreatedAt.UTC(),
		UpdatedAt:  c.UpdatedAt.UTC(),
	}
	for _, s := range c.Secrets {
		si := SecretInfo{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt, State: SecretActive}
		if si.ID == "" {
			si.ID = SecretID(s.Hash)
		}
		switch {
		case s.ExpiresAt == nil:
		case !s.ExpiresAt.After(now):
			si.State = SecretExpired
		case s.ExpiresAt.Sub(now) <= expiringSoon:
			si.State = SecretExpiring
			info.SecretsExpiringSoon = true
		}
		info.Secrets = append(info.Secrets, si)
	}
	return info
}

// SecretID is the non-secret id of a secret: the first 12 hex
// digits of the SHA-256 of its keyed hash (migration 0007 computes the same).
func SecretID(hash []byte) string {
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:])[:12]
}

// NewSecretID returns a random secret id in SecretID's form (12 hex
// digits), for a secret the server derives from its id
// (authz.SecretHasher.DeriveSecret): such a secret's id must exist before
// the secret, so it cannot be a fingerprint of its hash.
func NewSecretID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// NewClientID returns a random client id: 128 bits, lowercase hex. Hex (not
// base64url) so an id never starts with "-" and reads as a flag on a command
// line, and survives copy and paste, URLs and case-insensitive tools.
func NewClientID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate client id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// CheckClientID bounds imported client ids: 1–128 printable ASCII
// characters without space or ':' (Basic authentication splits on it).
func CheckClientID(id string) error {
	if id == "" || len(id) > 128 {
		return errors.New("client_id must be 1-128 characters")
	}
	for _, r := range id {
		if r <= 0x20 || r > 0x7e || r == ':' {
			return fmt.Errorf("client_id %q must be printable ASCII without space or ':'", id)
		}
	}
	return nil
}
