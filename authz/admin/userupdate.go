package admin

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// ActionUserUpdate is the audit action of a profile change.
const ActionUserUpdate = "user.update"

// UserUpdate is a change to a user's profile: only the fields given (not
// nil) change. A new email without EmailVerified makes email_verified
// false: the new address has not been verified; the same holds for a new
// phone number and phone_number_verified.
type UserUpdate struct {
	Email         *string `json:"email,omitempty"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
	Name          *string `json:"name,omitempty"`
	GivenName     *string `json:"given_name,omitempty"`
	FamilyName    *string `json:"family_name,omitempty"`
	// PhoneNumber is E.164 ('+' then 8 to 15 digits); empty clears it.
	PhoneNumber         *string `json:"phone_number,omitempty"`
	PhoneNumberVerified *bool   `json:"phone_number_verified,omitempty"`
}

// check validates the fields given, reporting every problem at once.
func (u *UserUpdate) check() error {
	var p registration.Problems
	if *u == (UserUpdate{}) {
		p.Add("nothing to change: give email, email_verified, name, given_name, family_name, phone_number or phone_number_verified")
	}
	if u.Email != nil && *u.Email != "" {
		if addr, err := mail.ParseAddress(*u.Email); err != nil || addr.Address != *u.Email || addr.Name != "" {
			p.Add("email %q is not an email address", *u.Email)
		}
	}
	if u.EmailVerified != nil && *u.EmailVerified && u.Email != nil && *u.Email == "" {
		p.Add("email_verified cannot be true without an email")
	}
	if u.PhoneNumber != nil {
		if err := CheckPhoneNumber(*u.PhoneNumber); err != nil {
			p.Add("%v", err)
		}
	}
	if u.PhoneNumberVerified != nil && *u.PhoneNumberVerified && u.PhoneNumber != nil && *u.PhoneNumber == "" {
		p.Add("phone_number_verified cannot be true without a phone_number")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", u.Name}, {"given_name", u.GivenName}, {"family_name", u.FamilyName}} {
		if f.v != nil && (len([]rune(*f.v)) > 200 || strings.ContainsFunc(*f.v, unicode.IsControl)) {
			p.Add("%s must be at most 200 characters without control characters", f.name)
		}
	}
	return p.Err()
}

// Update changes the profile of the user named by ref (id or username),
// in one transaction with an audit event naming the fields changed (not
// their values).
func (a *UserAdmin) Update(ctx context.Context, actor Actor, ref string, upd UserUpdate) (*UserInfo, error) {
	if err := upd.check(); err != nil {
		return nil, err
	}
	var info UserInfo
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		u, err := a.find(ctx, ref)
		if err != nil {
			return err
		}
		var changed []string
		set := func(field string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed = append(changed, field)
			}
		}
		set("email", &u.Email, upd.Email)
		verified := upd.EmailVerified
		if verified == nil && upd.Email != nil && slices.Contains(changed, "email") && u.EmailVerified {
			f := false
			verified = &f
		}
		if verified != nil && *verified != u.EmailVerified {
			if *verified && u.Email == "" {
				return &kindError{kind: ErrConflict, err: errors.New("email_verified cannot be true: the user has no email")}
			}
			u.EmailVerified = *verified
			changed = append(changed, "email_verified")
		}
		set("phone_number", &u.PhoneNumber, upd.PhoneNumber)
		phoneVerified := upd.PhoneNumberVerified
		if phoneVerified == nil && slices.Contains(changed, "phone_number") && u.PhoneNumberVerified {
			f := false
			phoneVerified = &f
		}
		if phoneVerified != nil && *phoneVerified != u.PhoneNumberVerified {
			if *phoneVerified && u.PhoneNumber == "" {
				return &kindError{kind: ErrConflict, err: errors.New("phone_number_verified cannot be true: the user has no phone_number")}
			}
			u.PhoneNumberVerified = *phoneVerified
			changed = append(changed, "phone_number_verified")
		}
		set("name", &u.Name, upd.Name)
		set("given_name", &u.GivenName, upd.GivenName)
		set("family_name", &u.FamilyName, upd.FamilyName)
		if len(changed) > 0 {
			now := a.now().UTC()
			u.UpdatedAt = now
			if err := a.store.UpdateUserProfile(ctx, u); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return &NotFoundError{Kind: "user", ID: ref}
				}
				return fmt.Errorf("update user: %w", err)
			}
			sort.Strings(changed)
			if err := a.store.AppendAudit(ctx, actor.event(now, ActionUserUpdate, u.ID, map[string]string{
				"username": u.Username, "fields": strings.Join(changed, ","),
			})); err != nil {
				return err
			}
		}
		info = userInfo(u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &info, nil
}
