package storage

import (
	"context"
	"time"
)

// MFA groups what strong customer authentication needs: second factors
// (TOTP, recovery codes, WebAuthn credentials), the per-user MFA policy,
// logins waiting for their second factor, password changes and the
// failed-login counters that throttle brute force.
type MFA interface {
	UserMFA
	TOTPs
	RecoveryCodes
	WebAuthnCredentials
	PendingLogins
	LoginThrottles
}

// ---------------------------------------------------------------- user policy and password

// UserMFA holds the per-user MFA policy and changes a user's password hash.
type UserMFA interface {
	// SetRequireMFA records whether every login of the user needs a second
	// factor; ErrNotFound if the user does not exist.
	SetRequireMFA(ctx context.Context, userID string, require bool, at time.Time) error
	// RequireMFA reports the user's policy (false when never set).
	RequireMFA(ctx context.Context, userID string) (bool, error)
	// UpdatePasswordHash replaces the user's password hash (password change,
	// rehash with new parameters) and sets UpdatedAt; ErrNotFound if missing.
	UpdatePasswordHash(ctx context.Context, userID, hash string, at time.Time) error
	// UpdateUserProfile replaces the user's email, email_verified, name,
	// given and family names, phone_number and phone_number_verified with u's (u.ID names the user) and sets
	// UpdatedAt; ErrNotFound if missing. The username and password hash stay.
	UpdateUserProfile(ctx context.Context, u *User) error
}

// ---------------------------------------------------------------- TOTP

// TOTPEnrolment is a user's TOTP (RFC 6238) secret. The secret is stored
// encrypted (AES-256-GCM under a key derived from the system secret, the
// user id as associated data): the database alone does not reveal it.
type TOTPEnrolment struct {
	UserID    string
	SecretEnc []byte
	// Confirmed is set once the user proved the authenticator app works by
	// entering a code; an unconfirmed enrolment is not a factor.
	Confirmed bool
	// LastStep is the last accepted time step (Unix time / period): a code is
	// accepted only for a later step, so each code works once (RFC 6238 §5.2).
	LastStep    int64
	CreatedAt   time.Time
	ConfirmedAt *time.Time
}

// TOTPs stores TOTP enrolments, one per user.
type TOTPs interface {
	// SaveTOTP inserts or replaces the user's enrolment.
	SaveTOTP(ctx context.Context, e *TOTPEnrolment) error
	// GetTOTP returns the user's enrolment or ErrNotFound.
	GetTOTP(ctx context.Context, userID string) (*TOTPEnrolment, error)
	// UseTOTPStep records that the code of step was accepted, confirming the
	// enrolment if needed. It succeeds only if step is later than LastStep;
	// otherwise (a replay, or an older code) ErrConflict. Atomic: of several
	// concurrent callers with the same step exactly one succeeds.
	// ErrNotFound without an enrolment.
	UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error
	// DeleteTOTP removes the enrolment; ErrNotFound if missing.
	DeleteTOTP(ctx context.Context, userID string) error
}

// ---------------------------------------------------------------- recovery codes

// RecoveryCodes stores one-time recovery codes as keyed hashes.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes deletes the user's codes and stores hashes instead.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the unused code with hash as used. ErrNotFound if
	// there is no such unused code. Atomic: a code is used once.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// ---------------------------------------------------------------- WebAuthn

// WebAuthnCredential is a registered WebAuthn credential (passkey or
// security key): the credential record of WebAuthn Level 3 §4.
type WebAuthnCredential struct {
	ID              []byte // credential id, unique
	UserID          string
	Name            string // shown to the user
	PublicKey       []byte // COSE key
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	Transports      []string
	// BackupEligible and BackupState are the BE/BS flags; verification
	// checks BE does not change.
	BackupEligible bool
	BackupState    bool
	UserVerified   bool
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

// WebAuthnCredentials stores WebAuthn credentials.
type WebAuthnCredentials interface {
	// CreateWebAuthnCredential inserts c; ErrAlreadyExists if the credential
	// id is registered (to anyone), ErrNotFound if the user does not exist.
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// ListWebAuthnCredentials returns the user's credentials, oldest first.
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]WebAuthnCredential, error)
	// UpdateWebAuthnCredentialUse records a successful assertion: the new
	// signature counter and backup state. ErrNotFound if missing.
	UpdateWebAuthnCredentialUse(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error
	// DeleteWebAuthnCredentials removes every credential of the user.
	DeleteWebAuthnCredentials(ctx context.Context, userID string) error
}

// ---------------------------------------------------------------- pending logins

// PendingLogin is a login that passed the password step of an AuthFlow and
// waits for a second factor or for the enrolment of one. The flow's Subject
// stays empty until it completes, so consent and the response wait too.
type PendingLogin struct {
	FlowID string // the AuthFlow's id
	UserID string
	AMR    []string // methods passed so far (RFC 8176)
	// WebAuthnSession is the server-side state of the WebAuthn ceremony in
	// progress (its challenge), taken exactly once by TakeWebAuthnSession.
	WebAuthnSession []byte
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// PendingLogins stores logins waiting for a second factor.
type PendingLogins interface {
	// SavePendingLogin inserts or replaces the pending login of p.FlowID;
	// ErrNotFound if the flow or user does not exist.
	SavePendingLogin(ctx context.Context, p *PendingLogin) error
	// GetPendingLogin returns it; ErrNotFound if missing or expired.
	GetPendingLogin(ctx context.Context, flowID string) (*PendingLogin, error)
	// TakeWebAuthnSession returns the stored ceremony state and clears it:
	// exactly one caller gets it; ErrNotFound if there is none.
	TakeWebAuthnSession(ctx context.Context, flowID string) ([]byte, error)
	// DeletePendingLogin removes it; ErrNotFound if missing.
	DeletePendingLogin(ctx context.Context, flowID string) error
}

// ---------------------------------------------------------------- brute-force throttling

// LoginThrottle counts recent failed logins for one key: an account
// ("user:<username>") or a source address ("ip:<addr>"). Rows live in the
// database so that every node applies the same limits.
type LoginThrottle struct {
	Key      string
	Failures int
	// LastFailureAt is when the newest counted failure happened; counters
	// older than the policy's window start again from zero.
	LastFailureAt time.Time
	// NextAttemptAt is the earliest time another attempt is considered
	// (the growing delay); zero for none.
	NextAttemptAt time.Time
	// LockedUntil ends a temporary lock; zero when not locked.
	LockedUntil time.Time
}

// LoginThrottles stores failed-login counters.
type LoginThrottles interface {
	// GetLoginThrottle returns the counter or ErrNotFound.
	GetLoginThrottle(ctx context.Context, key string) (*LoginThrottle, error)
	// UpdateLoginThrottle reads the counter of key (a zero LoginThrottle with
	// Key set when there is none), lets fn change it and writes it back
	// atomically; concurrent callers for one key are serialized. When fn
	// returns an error nothing is written.
	UpdateLoginThrottle(ctx context.Context, key string, fn func(t *LoginThrottle) error) error
	// DeleteLoginThrottle removes the counter (operator unlock); ErrNotFound if missing.
	DeleteLoginThrottle(ctx context.Context, key string) error
	// DeleteExpiredLoginThrottles removes the counters whose key starts
	// with keyPrefix ("" for all) that no longer hold anything back: no lock
	// and no wait after now, and no failure since failedBefore (the
	// caller's counting window for that kind of key). Counters of made-up
	// usernames would otherwise stay forever. It reports how many it removed.
	DeleteExpiredLoginThrottles(ctx context.Context, keyPrefix string, now, failedBefore time.Time) (int64, error)
}
