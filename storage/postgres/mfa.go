package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// User ids, flow ids and credential ids are not secrets; TOTP secrets,
// recovery-code hashes and throttle keys (which hold usernames and
// addresses) never appear in error messages.

var _ storage.MFA = (*Store)(nil)

// ---------------------------------------------------------------- user policy and password

// SetRequireMFA records the user's MFA policy; ErrNotFound if the user does not exist.
func (s *Store) SetRequireMFA(ctx context.Context, userID string, require bool, at time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO user_mfa (user_id, require_mfa, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET require_mfa = EXCLUDED.require_mfa, updated_at = EXCLUDED.updated_at`,
		userID, require, at)
	if err != nil {
		return fmt.Errorf("postgres: set require-mfa of user %q: %w", userID, mapError(err))
	}
	return nil
}

// RequireMFA reports the user's MFA policy.
func (s *Store) RequireMFA(ctx context.Context, userID string) (bool, error) {
	var require bool
	err := s.q(ctx).QueryRow(ctx, `SELECT require_mfa FROM user_mfa WHERE user_id = $1`, userID).Scan(&require)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: require-mfa of user %q: %w", userID, mapError(err))
	}
	return require, nil
}

// UpdatePasswordHash replaces the user's password hash.
func (s *Store) UpdatePasswordHash(ctx context.Context, userID, hash string, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, userID, hash, at)
	if err != nil {
		return fmt.Errorf("postgres: update password of user %q: %w", userID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update password of user %q: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// UpdateUserProfile replaces the user's profile fields.
func (s *Store) UpdateUserProfile(ctx context.Context, u *storage.User) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE users SET email = $2, email_verified = $3, name = $4, given_name = $5, family_name = $6,
                 phone_number = $7, phone_number_verified = $8, updated_at = $9
WHERE id = $1`, u.ID, u.Email, u.EmailVerified, u.Name, u.GivenName, u.FamilyName,
		u.PhoneNumber, u.PhoneNumberVerified, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: update profile of user %q: %w", u.ID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update profile of user %q: %w", u.ID, storage.ErrNotFound)
	}
	return nil
}

// ---------------------------------------------------------------- TOTP

// SaveTOTP inserts or replaces the user's enrolment.
func (s *Store) SaveTOTP(ctx context.Context, e *storage.TOTPEnrolment) error {
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO totp_enrolments (user_id, secret_enc, confirmed, last_step, created_at, confirmed_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, confirmed = EXCLUDED.confirmed,
    last_step = EXCLUDED.last_step, created_at = EXCLUDED.created_at, confirmed_at = EXCLUDED.confirmed_at`,
		e.UserID, e.SecretEnc, e.Confirmed, e.LastStep, e.CreatedAt, e.ConfirmedAt)
	if err != nil {
		return fmt.Errorf("postgres: save TOTP of user %q: %w", e.UserID, mapError(err))
	}
	return nil
}

// GetTOTP returns the user's enrolment or ErrNotFound.
func (s *Store) GetTOTP(ctx context.Context, userID string) (*storage.TOTPEnrolment, error) {
	var e storage.TOTPEnrolment
	err := s.q(ctx).QueryRow(ctx, `
SELECT user_id, secret_enc, confirmed, last_step, created_at, confirmed_at
FROM totp_enrolments WHERE user_id = $1`, userID).
		Scan(&e.UserID, &e.SecretEnc, &e.Confirmed, &e.LastStep, &e.CreatedAt, &e.ConfirmedAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: get TOTP of user %q: %w", userID, mapError(err))
	}
	e.CreatedAt = utc(e.CreatedAt)
	e.ConfirmedAt = utcPtr(e.ConfirmedAt)
	return &e, nil
}

// UseTOTPStep accepts step once: one conditional UPDATE, so concurrent
// callers with the same step cannot both win.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE totp_enrolments
SET last_step = $2, confirmed = true, confirmed_at = COALESCE(confirmed_at, $3)
WHERE user_id = $1 AND last_step < $2`, userID, step, at)
	if err != nil {
		return fmt.Errorf("postgres: use TOTP step of user %q: %w", userID, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp_enrolments WHERE user_id = $1)`, userID).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: use TOTP step of user %q: %w", userID, mapError(err))
	}
	if !exists {
		return fmt.Errorf("postgres: use TOTP step of user %q: %w", userID, storage.ErrNotFound)
	}
	return fmt.Errorf("postgres: use TOTP step of user %q: step already used: %w", userID, storage.ErrConflict)
}

// DeleteTOTP removes the enrolment; ErrNotFound if missing.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM totp_enrolments WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("postgres: delete TOTP of user %q: %w", userID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete TOTP of user %q: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// ---------------------------------------------------------------- recovery codes

// ReplaceRecoveryCodes deletes the user's codes and stores hashes instead.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return mapError(err)
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, $3)`, userID, h, at); err != nil {
				return mapError(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: replace recovery codes of user %q: %w", userID, err)
	}
	return nil
}

// UseRecoveryCode marks an unused code used; ErrNotFound if there is none.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND hash = $2 AND used_at IS NULL`, userID, hash, at)
	if err != nil {
		return fmt.Errorf("postgres: use recovery code of user %q: %w", userID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: use recovery code of user %q: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// CountRecoveryCodes returns how many unused codes the user has.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count recovery codes of user %q: %w", userID, mapError(err))
	}
	return n, nil
}

// ---------------------------------------------------------------- WebAuthn

const webauthnColumns = `id, user_id, name, public_key, attestation_type, aaguid, sign_count, transports,
       backup_eligible, backup_state, user_verified, created_at, last_used_at`

// CreateWebAuthnCredential inserts c.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *storage.WebAuthnCredential) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO webauthn_credentials (`+webauthnColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (id) DO NOTHING`,
		c.ID, c.UserID, c.Name, c.PublicKey, c.AttestationType, nilIfEmpty(c.AAGUID), int64(c.SignCount),
		strs(c.Transports), c.BackupEligible, c.BackupState, c.UserVerified, c.CreatedAt, c.LastUsedAt)
	if err != nil {
		return fmt.Errorf("postgres: create WebAuthn credential of user %q: %w", c.UserID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create WebAuthn credential of user %q: %w", c.UserID, storage.ErrAlreadyExists)
	}
	return nil
}

// ListWebAuthnCredentials returns the user's credentials, oldest first.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, userID string) ([]storage.WebAuthnCredential, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+webauthnColumns+` FROM webauthn_credentials
WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list WebAuthn credentials of user %q: %w", userID, mapError(err))
	}
	defer rows.Close()
	var out []storage.WebAuthnCredential
	for rows.Next() {
		var c storage.WebAuthnCredential
		var count int64
		if err := rows.Scan(&c.ID, &c.UserID, &c.Name, &c.PublicKey, &c.AttestationType, &c.AAGUID, &count,
			&c.Transports, &c.BackupEligible, &c.BackupState, &c.UserVerified, &c.CreatedAt, &c.LastUsedAt); err != nil {
			return nil, fmt.Errorf("postgres: scan WebAuthn credential: %w", mapError(err))
		}
		c.SignCount = uint32(count) // #nosec G115 -- the column only ever holds a WebAuthn uint32 sign count
		c.AAGUID = nilIfEmpty(c.AAGUID)
		c.Transports = nilIfEmpty(c.Transports)
		c.CreatedAt = utc(c.CreatedAt)
		c.LastUsedAt = utcPtr(c.LastUsedAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list WebAuthn credentials of user %q: %w", userID, mapError(err))
	}
	return out, nil
}

// UpdateWebAuthnCredentialUse records a successful assertion.
func (s *Store) UpdateWebAuthnCredentialUse(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE webauthn_credentials SET sign_count = $2, backup_state = $3, last_used_at = $4 WHERE id = $1`,
		id, int64(signCount), backupState, at)
	if err != nil {
		return fmt.Errorf("postgres: update WebAuthn credential use: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update WebAuthn credential use: %w", storage.ErrNotFound)
	}
	return nil
}

// DeleteWebAuthnCredentials removes every credential of the user.
func (s *Store) DeleteWebAuthnCredentials(ctx context.Context, userID string) error {
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: delete WebAuthn credentials of user %q: %w", userID, mapError(err))
	}
	return nil
}

// ---------------------------------------------------------------- pending logins

// SavePendingLogin inserts or replaces the pending login of p.FlowID.
func (s *Store) SavePendingLogin(ctx context.Context, p *storage.PendingLogin) error {
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO pending_logins (flow_id, user_id, amr, webauthn_session, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (flow_id) DO UPDATE SET user_id = EXCLUDED.user_id, amr = EXCLUDED.amr,
    webauthn_session = EXCLUDED.webauthn_session, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		p.FlowID, p.UserID, strs(p.AMR), nilIfEmpty(p.WebAuthnSession), p.CreatedAt, p.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: save pending login: %w", mapError(err))
	}
	return nil
}

// GetPendingLogin returns the unexpired pending login or ErrNotFound.
func (s *Store) GetPendingLogin(ctx context.Context, flowID string) (*storage.PendingLogin, error) {
	var p storage.PendingLogin
	err := s.q(ctx).QueryRow(ctx, `
SELECT flow_id, user_id, amr, webauthn_session, created_at, expires_at
FROM pending_logins WHERE flow_id = $1 AND expires_at > now()`, flowID).
		Scan(&p.FlowID, &p.UserID, &p.AMR, &p.WebAuthnSession, &p.CreatedAt, &p.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: get pending login: %w", mapError(err))
	}
	p.AMR = nilIfEmpty(p.AMR)
	p.WebAuthnSession = nilIfEmpty(p.WebAuthnSession)
	p.CreatedAt, p.ExpiresAt = utc(p.CreatedAt), utc(p.ExpiresAt)
	return &p, nil
}

// TakeWebAuthnSession returns the stored ceremony state and clears it, in
// one statement: a second caller finds nothing.
func (s *Store) TakeWebAuthnSession(ctx context.Context, flowID string) ([]byte, error) {
	var data []byte
	err := s.q(ctx).QueryRow(ctx, `
UPDATE pending_logins p SET webauthn_session = NULL
FROM (SELECT flow_id, webauthn_session FROM pending_logins
      WHERE flow_id = $1 AND webauthn_session IS NOT NULL AND expires_at > now() FOR UPDATE) old
WHERE p.flow_id = old.flow_id AND p.webauthn_session IS NOT NULL
RETURNING old.webauthn_session`, flowID).Scan(&data)
	if err != nil {
		return nil, fmt.Errorf("postgres: take WebAuthn session: %w", mapError(err))
	}
	return data, nil
}

// DeletePendingLogin removes it; ErrNotFound if missing.
func (s *Store) DeletePendingLogin(ctx context.Context, flowID string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM pending_logins WHERE flow_id = $1`, flowID)
	if err != nil {
		return fmt.Errorf("postgres: delete pending login: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete pending login: %w", storage.ErrNotFound)
	}
	return nil
}

// ---------------------------------------------------------------- throttling

const throttleColumns = `key, failures, last_failure_at, next_attempt_at, locked_until`

func scanThrottle(row pgx.Row) (*storage.LoginThrottle, error) {
	var t storage.LoginThrottle
	var last, next, locked *time.Time
	if err := row.Scan(&t.Key, &t.Failures, &last, &next, &locked); err != nil {
		return nil, mapError(err)
	}
	for _, p := range []struct {
		src *time.Time
		dst *time.Time
	}{{last, &t.LastFailureAt}, {next, &t.NextAttemptAt}, {locked, &t.LockedUntil}} {
		if p.src != nil {
			*p.dst = utc(*p.src)
		}
	}
	return &t, nil
}

// GetLoginThrottle returns the counter or ErrNotFound.
func (s *Store) GetLoginThrottle(ctx context.Context, key string) (*storage.LoginThrottle, error) {
	t, err := scanThrottle(s.q(ctx).QueryRow(ctx, `SELECT `+throttleColumns+` FROM login_throttles WHERE key = $1`, key))
	if err != nil {
		return nil, fmt.Errorf("postgres: get login throttle: %w", err)
	}
	return t, nil
}

// UpdateLoginThrottle runs fn on the locked row (created when missing).
func (s *Store) UpdateLoginThrottle(ctx context.Context, key string, fn func(t *storage.LoginThrottle) error) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// One statement creates or locks the row: unlike INSERT … DO NOTHING
		// followed by SELECT … FOR UPDATE, it cannot miss a row that
		// DeleteExpiredLoginThrottles removes in between.
		t, err := scanThrottle(tx.QueryRow(ctx, `
INSERT INTO login_throttles (key) VALUES ($1)
ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
RETURNING `+throttleColumns, key))
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
UPDATE login_throttles SET failures = $2, last_failure_at = $3, next_attempt_at = $4, locked_until = $5 WHERE key = $1`,
			key, t.Failures, nullTime(t.LastFailureAt), nullTime(t.NextAttemptAt), nullTime(t.LockedUntil))
		return mapError(err)
	})
	if err != nil {
		return fmt.Errorf("postgres: update login throttle: %w", err)
	}
	return nil
}

// DeleteLoginThrottle removes the counter; ErrNotFound if missing.
func (s *Store) DeleteLoginThrottle(ctx context.Context, key string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM login_throttles WHERE key = $1`, key)
	if err != nil {
		return fmt.Errorf("postgres: delete login throttle: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete login throttle: %w", storage.ErrNotFound)
	}
	return nil
}

// DeleteExpiredLoginThrottles removes counters with keyPrefix without a
// lock or wait after now and without a failure since failedBefore, in batches so that a large
// backlog never holds many row locks at once; rows an attempt is updating
// are skipped (they are live).
func (s *Store) DeleteExpiredLoginThrottles(ctx context.Context, keyPrefix string, now, failedBefore time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.q(ctx).Exec(ctx, `
DELETE FROM login_throttles WHERE key IN (
  SELECT key FROM login_throttles
  WHERE left(key, length($4)) = $4
    AND (locked_until IS NULL OR locked_until <= $1)
    AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
    AND (last_failure_at IS NULL OR last_failure_at < $2)
  LIMIT $3 FOR UPDATE SKIP LOCKED)`, now, failedBefore, deleteExpiredBatch, keyPrefix)
		if err != nil {
			return total, fmt.Errorf("postgres: delete expired login throttles: %w", mapError(err))
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < deleteExpiredBatch {
			return total, nil
		}
	}
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
