package dpop

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// NonceSource issues and checks server nonces (RFC 9449 §8 and §9).
type NonceSource interface {
	// Nonce returns the nonce to send in a DPoP-Nonce header at now.
	Nonce(now time.Time) string
	// Valid reports whether nonce is one the server still accepts at now.
	Valid(nonce string, now time.Time) bool
}

// DefaultNoncePeriod is how long one nonce is handed out; it is accepted for
// up to twice as long (its own slot and the next).
const DefaultNoncePeriod = 5 * time.Minute

// minSecretLen is the shortest server secret HMACNonces accepts.
const minSecretLen = 32

// maxNonceLen bounds a nonce claim (ours are 43 characters).
const maxNonceLen = 256

// HMACNonces is a NonceSource that every node of a deployment shares without
// a store: the nonce of a time slot is base64url(HMAC-SHA256(key, slot)),
// with the key derived (HKDF-SHA256) from the server secret. A nonce is
// accepted during its own slot and the next one, so it lives between one and
// two periods; nodes need clocks that agree to well within one period.
type HMACNonces struct {
	key    []byte
	period time.Duration
}

// NewHMACNonces derives the nonce key from secret (at least 32 bytes, the
// same on every node) and rotates nonces every period (DefaultNoncePeriod
// when zero; at least one second).
func NewHMACNonces(secret []byte, period time.Duration) (*HMACNonces, error) {
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("dpop: nonce secret must be at least %d bytes", minSecretLen)
	}
	if period == 0 {
		period = DefaultNoncePeriod
	}
	if period < time.Second {
		return nil, errors.New("dpop: nonce period must be at least one second")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "strongroom dpop nonce v1", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("dpop: derive nonce key: %w", err)
	}
	return &HMACNonces{key: key, period: period}, nil
}

// Nonce returns the nonce of now's slot.
func (n *HMACNonces) Nonce(now time.Time) string {
	return base64.RawURLEncoding.EncodeToString(n.mac(n.slot(now)))
}

// Valid reports whether nonce is the nonce of now's slot or of the slot
// before, comparing in constant time.
func (n *HMACNonces) Valid(nonce string, now time.Time) bool {
	if len(nonce) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil {
		return false
	}
	slot := n.slot(now)
	current := hmac.Equal(got, n.mac(slot))
	previous := hmac.Equal(got, n.mac(slot-1))
	return current || previous
}

func (n *HMACNonces) slot(now time.Time) int64 {
	return now.UnixNano() / int64(n.period)
}

func (n *HMACNonces) mac(slot int64) []byte {
	m := hmac.New(sha256.New, n.key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(slot)) // #nosec G115 -- a time slot (Unix seconds / period) is positive; the bits are MACed as they are
	m.Write(b[:])
	return m.Sum(nil)
}

// NonceMode is the server's nonce policy, as set by serve --dpop-nonce.
type NonceMode string

// Nonce modes.
const (
	// NonceRequired: every DPoP proof must carry a current server nonce.
	NonceRequired NonceMode = "required"
	// NonceOptional: proofs of clients that must use nonces (FAPI 2.0
	// clients) carry one; others may. A nonce sent is always checked.
	NonceOptional NonceMode = "optional"
	// NonceOff: no nonces are issued or checked.
	NonceOff NonceMode = "off"
)

// ParseNonceMode parses "required", "optional" or "off".
func ParseNonceMode(s string) (NonceMode, error) {
	switch m := NonceMode(s); m {
	case NonceRequired, NonceOptional, NonceOff:
		return m, nil
	}
	return "", fmt.Errorf("dpop: nonce mode %q is not one of required, optional, off", s)
}

// Require reports whether a proof must carry a nonce under mode, for a
// client that needs nonces by its own policy (clientNeedsNonce: e.g. a
// FAPI 2.0 client) or not. Its result goes into Request.RequireNonce.
func (m NonceMode) Require(clientNeedsNonce bool) bool {
	switch m {
	case NonceRequired:
		return true
	case NonceOptional:
		return clientNeedsNonce
	}
	return false
}
