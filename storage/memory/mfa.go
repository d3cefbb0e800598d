package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.MFA = (*Store)(nil)

// mfaState holds the MFA tables. Rows of a deleted user (or a consumed flow)
// are treated as absent, as the database's ON DELETE CASCADE removes them.
type mfaState struct {
	requireMFA map[string]bool                       // user id → policy
	totps      map[string]storage.TOTPEnrolment      // user id →
	recovery   map[recoveryKey]*time.Time            // → used at (nil: unused)
	webauthn   map[string]storage.WebAuthnCredential // string(credential id) →
	pending    map[string]storage.PendingLogin       // flow id →
	throttles  map[string]storage.LoginThrottle      // key →
}

type recoveryKey struct{ userID, hash string }

func newMFAState() mfaState {
	return mfaState{
		requireMFA: map[string]bool{},
		totps:      map[string]storage.TOTPEnrolment{},
		recovery:   map[recoveryKey]*time.Time{},
		webauthn:   map[string]storage.WebAuthnCredential{},
		pending:    map[string]storage.PendingLogin{},
		throttles:  map[string]storage.LoginThrottle{},
	}
}

func (s *Store) hasUser(id string) bool { _, ok := s.users[id]; return ok }

// SetRequireMFA records the user's MFA policy.
func (s *Store) SetRequireMFA(ctx context.Context, userID string, require bool, _ time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		if !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		put(t, s.mfa.requireMFA, userID, require)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: set require-mfa of user %q: %w", userID, err)
	}
	return nil
}

// RequireMFA reports the user's MFA policy.
func (s *Store) RequireMFA(ctx context.Context, userID string) (bool, error) {
	var out bool
	err := s.read(ctx, func() error {
		out = s.hasUser(userID) && s.mfa.requireMFA[userID]
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("memory: require-mfa of user %q: %w", userID, err)
	}
	return out, nil
}

// UpdatePasswordHash replaces the user's password hash.
func (s *Store) UpdatePasswordHash(ctx context.Context, userID, hash string, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		u, ok := s.users[userID]
		if !ok {
			return storage.ErrNotFound
		}
		u.PasswordHash, u.UpdatedAt = hash, tm(at)
		put(t, s.users, userID, u)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update password of user %q: %w", userID, err)
	}
	return nil
}

// UpdateUserProfile replaces the user's profile fields.
func (s *Store) UpdateUserProfile(ctx context.Context, p *storage.User) error {
	err := s.write(ctx, func(t *txn) error {
		u, ok := s.users[p.ID]
		if !ok {
			return storage.ErrNotFound
		}
		u.Email, u.EmailVerified, u.Name, u.GivenName, u.FamilyName = p.Email, p.EmailVerified, p.Name, p.GivenName, p.FamilyName
		u.PhoneNumber, u.PhoneNumberVerified = p.PhoneNumber, p.PhoneNumberVerified
		u.UpdatedAt = tm(p.UpdatedAt)
		put(t, s.users, p.ID, u)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update profile of user %q: %w", p.ID, err)
	}
	return nil
}

// ---------------------------------------------------------------- TOTP

func cloneTOTP(e storage.TOTPEnrolment) storage.TOTPEnrolment {
	e.SecretEnc = slices.Clone(e.SecretEnc)
	e.CreatedAt = tm(e.CreatedAt)
	e.ConfirmedAt = tmPtr(e.ConfirmedAt)
	return e
}

// SaveTOTP inserts or replaces the user's enrolment.
func (s *Store) SaveTOTP(ctx context.Context, e *storage.TOTPEnrolment) error {
	err := s.write(ctx, func(t *txn) error {
		if !s.hasUser(e.UserID) {
			return storage.ErrNotFound
		}
		put(t, s.mfa.totps, e.UserID, cloneTOTP(*e))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: save TOTP of user %q: %w", e.UserID, err)
	}
	return nil
}

// GetTOTP returns the user's enrolment or ErrNotFound.
func (s *Store) GetTOTP(ctx context.Context, userID string) (*storage.TOTPEnrolment, error) {
	var out storage.TOTPEnrolment
	err := s.read(ctx, func() error {
		e, ok := s.mfa.totps[userID]
		if !ok || !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		out = cloneTOTP(e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get TOTP of user %q: %w", userID, err)
	}
	return &out, nil
}

// UseTOTPStep accepts step once.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		e, ok := s.mfa.totps[userID]
		if !ok || !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		if step <= e.LastStep {
			return fmt.Errorf("step already used: %w", storage.ErrConflict)
		}
		e.LastStep, e.Confirmed = step, true
		if e.ConfirmedAt == nil {
			e.ConfirmedAt = tmPtr(&at)
		}
		put(t, s.mfa.totps, userID, e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: use TOTP step of user %q: %w", userID, err)
	}
	return nil
}

// DeleteTOTP removes the enrolment.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.mfa.totps[userID]; !ok || !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		del(t, s.mfa.totps, userID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete TOTP of user %q: %w", userID, err)
	}
	return nil
}

// ---------------------------------------------------------------- recovery codes

// ReplaceRecoveryCodes deletes the user's codes and stores hashes instead.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, _ time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		if !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		for k := range s.mfa.recovery {
			if k.userID == userID {
				del(t, s.mfa.recovery, k)
			}
		}
		for _, h := range hashes {
			k := recoveryKey{userID, string(h)}
			if _, ok := s.mfa.recovery[k]; ok {
				return storage.ErrAlreadyExists
			}
			put(t, s.mfa.recovery, k, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: replace recovery codes of user %q: %w", userID, err)
	}
	return nil
}

// UseRecoveryCode marks an unused code used.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		k := recoveryKey{userID, string(hash)}
		used, ok := s.mfa.recovery[k]
		if !ok || used != nil || !s.hasUser(userID) {
			return storage.ErrNotFound
		}
		put(t, s.mfa.recovery, k, tmPtr(&at))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: use recovery code of user %q: %w", userID, err)
	}
	return nil
}

// CountRecoveryCodes returns how many unused codes the user has.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.read(ctx, func() error {
		if !s.hasUser(userID) {
			return nil
		}
		for k, used := range s.mfa.recovery {
			if k.userID == userID && used == nil {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: count recovery codes of user %q: %w", userID, err)
	}
	return n, nil
}

// ---------------------------------------------------------------- WebAuthn

func cloneCredential(c storage.WebAuthnCredential) storage.WebAuthnCredential {
	c.ID = slices.Clone(c.ID)
	c.PublicKey = slices.Clone(c.PublicKey)
	c.AAGUID = clone(c.AAGUID)
	c.Transports = clone(c.Transports)
	c.CreatedAt = tm(c.CreatedAt)
	c.LastUsedAt = tmPtr(c.LastUsedAt)
	return c
}

// CreateWebAuthnCredential inserts c.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *storage.WebAuthnCredential) error {
	err := s.write(ctx, func(t *txn) error {
		if !s.hasUser(c.UserID) {
			return storage.ErrNotFound
		}
		if old, ok := s.mfa.webauthn[string(c.ID)]; ok && s.hasUser(old.UserID) {
			return storage.ErrAlreadyExists
		}
		put(t, s.mfa.webauthn, string(c.ID), cloneCredential(*c))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create WebAuthn credential of user %q: %w", c.UserID, err)
	}
	return nil
}

// ListWebAuthnCredentials returns the user's credentials, oldest first.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, userID string) ([]storage.WebAuthnCredential, error) {
	var out []storage.WebAuthnCredential
	err := s.read(ctx, func() error {
		if !s.hasUser(userID) {
			return nil
		}
		for _, c := range s.mfa.webauthn {
			if c.UserID == userID {
				out = append(out, cloneCredential(c))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list WebAuthn credentials of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b storage.WebAuthnCredential) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateWebAuthnCredentialUse records a successful assertion.
func (s *Store) UpdateWebAuthnCredentialUse(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		c, ok := s.mfa.webauthn[string(id)]
		if !ok || !s.hasUser(c.UserID) {
			return storage.ErrNotFound
		}
		c.SignCount, c.BackupState, c.LastUsedAt = signCount, backupState, tmPtr(&at)
		put(t, s.mfa.webauthn, string(id), c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update WebAuthn credential use: %w", err)
	}
	return nil
}

// DeleteWebAuthnCredentials removes every credential of the user.
func (s *Store) DeleteWebAuthnCredentials(ctx context.Context, userID string) error {
	err := s.write(ctx, func(t *txn) error {
		for k, c := range s.mfa.webauthn {
			if c.UserID == userID {
				del(t, s.mfa.webauthn, k)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete WebAuthn credentials of user %q: %w", userID, err)
	}
	return nil
}

// ---------------------------------------------------------------- pending logins

func clonePending(p storage.PendingLogin) storage.PendingLogin {
	p.AMR = clone(p.AMR)
	p.WebAuthnSession = clone(p.WebAuthnSession)
	p.CreatedAt, p.ExpiresAt = tm(p.CreatedAt), tm(p.ExpiresAt)
	return p
}

// pendingLive reports whether the pending login p is visible: unexpired,
// its flow present and unexpired, its user present. The caller holds s.mu.
func (s *Store) pendingLive(p storage.PendingLogin) bool {
	f, ok := s.flows[p.FlowID]
	return ok && s.live(f.ExpiresAt) && s.live(p.ExpiresAt) && s.hasUser(p.UserID)
}

// SavePendingLogin inserts or replaces the pending login of p.FlowID.
func (s *Store) SavePendingLogin(ctx context.Context, p *storage.PendingLogin) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.flows[p.FlowID]; !ok || !s.hasUser(p.UserID) {
			return storage.ErrNotFound
		}
		put(t, s.mfa.pending, p.FlowID, clonePending(*p))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: save pending login: %w", err)
	}
	return nil
}

// GetPendingLogin returns the unexpired pending login or ErrNotFound.
func (s *Store) GetPendingLogin(ctx context.Context, flowID string) (*storage.PendingLogin, error) {
	var out storage.PendingLogin
	err := s.read(ctx, func() error {
		p, ok := s.mfa.pending[flowID]
		if !ok || !s.pendingLive(p) {
			return storage.ErrNotFound
		}
		out = clonePending(p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get pending login: %w", err)
	}
	return &out, nil
}

// TakeWebAuthnSession returns the stored ceremony state and clears it.
func (s *Store) TakeWebAuthnSession(ctx context.Context, flowID string) ([]byte, error) {
	var out []byte
	err := s.write(ctx, func(t *txn) error {
		p, ok := s.mfa.pending[flowID]
		if !ok || !s.pendingLive(p) || len(p.WebAuthnSession) == 0 {
			return storage.ErrNotFound
		}
		out = p.WebAuthnSession
		p.WebAuthnSession = nil
		put(t, s.mfa.pending, flowID, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: take WebAuthn session: %w", err)
	}
	return out, nil
}

// DeletePendingLogin removes it.
func (s *Store) DeletePendingLogin(ctx context.Context, flowID string) error {
	err := s.write(ctx, func(t *txn) error {
		p, ok := s.mfa.pending[flowID]
		if !ok || !s.pendingLive(p) {
			return storage.ErrNotFound
		}
		del(t, s.mfa.pending, flowID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete pending login: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------- throttling

func cloneThrottle(l storage.LoginThrottle) storage.LoginThrottle {
	for _, p := range []*time.Time{&l.LastFailureAt, &l.NextAttemptAt, &l.LockedUntil} {
		if !p.IsZero() {
			*p = tm(*p)
		}
	}
	return l
}

// GetLoginThrottle returns the counter or ErrNotFound.
func (s *Store) GetLoginThrottle(ctx context.Context, key string) (*storage.LoginThrottle, error) {
	var out storage.LoginThrottle
	err := s.read(ctx, func() error {
		l, ok := s.mfa.throttles[key]
		if !ok {
			return storage.ErrNotFound
		}
		out = l
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get login throttle: %w", err)
	}
	return &out, nil
}

// UpdateLoginThrottle runs fn on the counter (created when missing).
func (s *Store) UpdateLoginThrottle(ctx context.Context, key string, fn func(t *storage.LoginThrottle) error) error {
	err := s.write(ctx, func(t *txn) error {
		l, ok := s.mfa.throttles[key]
		if !ok {
			l = storage.LoginThrottle{Key: key}
		}
		if err := fn(&l); err != nil {
			return err
		}
		l.Key = key
		put(t, s.mfa.throttles, key, cloneThrottle(l))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update login throttle: %w", err)
	}
	return nil
}

// DeleteLoginThrottle removes the counter.
func (s *Store) DeleteLoginThrottle(ctx context.Context, key string) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.mfa.throttles[key]; !ok {
			return storage.ErrNotFound
		}
		del(t, s.mfa.throttles, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete login throttle: %w", err)
	}
	return nil
}

// DeleteExpiredLoginThrottles removes counters with keyPrefix without a
// lock or wait after now and without a failure since failedBefore.
func (s *Store) DeleteExpiredLoginThrottles(ctx context.Context, keyPrefix string, now, failedBefore time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for key, l := range s.mfa.throttles {
			if !strings.HasPrefix(key, keyPrefix) || l.LockedUntil.After(now) || l.NextAttemptAt.After(now) || !l.LastFailureAt.Before(failedBefore) {
				continue
			}
			del(t, s.mfa.throttles, key)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired login throttles: %w", err)
	}
	return n, nil
}
