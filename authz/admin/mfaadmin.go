package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
)

// Audit actions of operator changes to a user's credentials.
const (
	ActionUserPasswordSet = "user.password_set"
	ActionUserUnlock      = "account.unlock"
	ActionUserRequireMFA  = "user.require_mfa"
	ActionUserResetMFA    = "user.reset_mfa"
)

// CredentialAdmin changes a user's password, MFA policy, second factors and
// brute-force lock for operators; each change is audited in its transaction.
type CredentialAdmin struct {
	store    storage.Store
	throttle *throttle.Throttle
	now      func() time.Time
}

// NewCredentialAdmin returns the service; now may be nil (time.Now).
func NewCredentialAdmin(store storage.Store, now func() time.Time) *CredentialAdmin {
	if now == nil {
		now = time.Now
	}
	return &CredentialAdmin{store: store, throttle: throttle.New(store, throttle.Default, now), now: now}
}

// SetPassword applies the password policy (length, common passwords) and
// replaces the user's password. In the same transaction the user is signed
// out everywhere: their sessions end (back-channel logout is queued to
// their clients), and their authorization codes, access and refresh tokens
// are revoked at every client, with their pending sign-ins. A password is
// changed because the old one is known to someone else; nothing obtained
// with it may outlive it.
func (a *CredentialAdmin) SetPassword(ctx context.Context, actor Actor, u *storage.User, pw string) error {
	if err := password.Validate(pw); err != nil {
		return err
	}
	now := a.now().UTC()
	sessions := &authz.SessionManager{Store: a.store, Now: a.now}
	return storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := password.Change(ctx, a.store, u.ID, pw, now); err != nil {
			return err
		}
		ended, revoked, err := sessions.EndUserAccess(ctx, u.ID, actor.name(), "password changed")
		if err != nil {
			return err
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserPasswordSet, u.ID, map[string]string{
			"username": u.Username, "sessions_ended": strconv.Itoa(ended), "tokens_revoked": strconv.FormatInt(revoked, 10),
		}))
	})
}

// Unlock lifts the user's brute-force locks, of the account and of the
// second factor (and clears their failure counts).
// It reports whether there was one.
func (a *CredentialAdmin) Unlock(ctx context.Context, actor Actor, u *storage.User) (bool, error) {
	now := a.now().UTC()
	var had bool
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		var err error
		if had, err = a.throttle.Unlock(ctx, u.Username, u.ID); err != nil {
			return err
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserUnlock, u.ID,
			map[string]string{"username": u.Username, "had_counter": strconv.FormatBool(had)}))
	})
	return had, err
}

// SetRequireMFA sets the user's policy: every login needs a second factor.
func (a *CredentialAdmin) SetRequireMFA(ctx context.Context, actor Actor, u *storage.User, require bool) error {
	now := a.now().UTC()
	return storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.SetRequireMFA(ctx, u.ID, require, now); err != nil {
			return fmt.Errorf("set MFA policy: %w", err)
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserRequireMFA, u.ID,
			map[string]string{"username": u.Username, "require_mfa": strconv.FormatBool(require)}))
	})
}

// ResetMFA removes the user's TOTP enrolment, passkeys and recovery codes
// (a lost phone): the next login that needs MFA enrols again. In the same
// transaction the user is signed out everywhere, as by SetPassword: their
// sessions end (queuing back-channel logout to their clients) and their
// codes, access and refresh tokens are revoked: nothing signed in with the
// lost device may outlive it.
func (a *CredentialAdmin) ResetMFA(ctx context.Context, actor Actor, u *storage.User) error {
	now := a.now().UTC()
	sessions := &authz.SessionManager{Store: a.store, Now: a.now}
	return storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.DeleteTOTP(ctx, u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("delete TOTP: %w", err)
		}
		if err := a.store.DeleteWebAuthnCredentials(ctx, u.ID); err != nil {
			return fmt.Errorf("delete passkeys: %w", err)
		}
		if err := a.store.ReplaceRecoveryCodes(ctx, u.ID, nil, now); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		ended, revoked, err := sessions.EndUserAccess(ctx, u.ID, actor.name(), "second factors reset")
		if err != nil {
			return err
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserResetMFA, u.ID, map[string]string{
			"username": u.Username, "sessions_ended": strconv.Itoa(ended), "tokens_revoked": strconv.FormatInt(revoked, 10),
		}))
	})
}
