package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
)

// ActionUserImport is the audit action of a user added by `users import`.
const ActionUserImport = "user.import"

// UserRecord is a user as `users export` writes it and `users import`
// reads it. PasswordHash is argon2id (PHC) or, on import only, bcrypt
// ($2a$, $2b$, $2y$); it is exported only when asked for.
type UserRecord struct {
	ID            string `json:"id,omitempty"`
	Username      string `json:"username"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	// PhoneNumber is E.164 ('+' then 8 to 15 digits).
	PhoneNumber         string `json:"phone_number,omitempty"`
	PhoneNumberVerified bool   `json:"phone_number_verified,omitempty"`
	PasswordHash        string `json:"password_hash,omitempty"`
}

// Check validates r for import, reporting every problem at once. Errors
// never quote the password hash.
func (r *UserRecord) Check() error {
	s := UserSpec{Username: r.Username, Email: r.Email, Name: r.Name, PhoneNumber: r.PhoneNumber}
	var errs []string
	if err := s.checkProfile(); err != nil {
		errs = append(errs, err.Error())
	}
	if r.ID != "" {
		if _, err := uuid.Parse(r.ID); err != nil {
			errs = append(errs, "id must be a UUID")
		}
	}
	for _, n := range []struct{ field, v string }{{"given_name", r.GivenName}, {"family_name", r.FamilyName}} {
		if len([]rune(n.v)) > 200 || strings.ContainsFunc(n.v, unicode.IsControl) {
			errs = append(errs, n.field+" must be at most 200 characters without control characters")
		}
	}
	if r.PhoneNumberVerified && r.PhoneNumber == "" {
		errs = append(errs, "phone_number_verified cannot be true without a phone_number")
	}
	if r.PasswordHash == "" {
		errs = append(errs, "password_hash is required (argon2id PHC or bcrypt)")
	} else if err := password.CheckImportedHash(r.PasswordHash); err != nil {
		errs = append(errs, "password_hash: "+err.Error())
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// checkProfile validates the username, email and name of s.
func (s *UserSpec) checkProfile() error {
	c := *s
	c.Password = "placeholder-password-not-checked"
	return c.check()
}

// UserImportResult is what happened to one imported user: "created",
// "skipped" (exists, --skip-existing) or "failed" with the reason.
type UserImportResult struct {
	Username string `json:"username"`
	ID       string `json:"id,omitempty"`
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
}

// ErrUserImportFailed is returned by Import when any record failed: nothing was
// written (all-or-nothing); the results say which and why.
var ErrUserImportFailed = errors.New("import failed: nothing was imported")

// Import adds users with their existing password hashes, in one
// transaction with an audit event each. Every record is checked first; any
// invalid record, or an existing username without skipExisting, fails the
// whole import (ErrUserImportFailed, nothing written). With skipExisting an
// existing username (or id) is reported "skipped" and left unchanged.
func (a *UserAdmin) Import(ctx context.Context, actor Actor, recs []UserRecord, skipExisting bool) ([]UserImportResult, error) {
	res := make([]UserImportResult, len(recs))
	failed := false
	seen := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		res[i] = UserImportResult{Username: r.Username, Status: "created"}
		if err := r.Check(); err != nil {
			res[i].Status, res[i].Error, failed = "failed", err.Error(), true
			continue
		}
		if seen[r.Username] {
			res[i].Status, res[i].Error, failed = "failed", "username appears twice in the file", true
			continue
		}
		seen[r.Username] = true
	}
	if failed {
		notImported(res)
		return res, ErrUserImportFailed
	}
	now := a.now().UTC()
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		for i := range recs {
			r := &recs[i]
			id := r.ID
			if id == "" {
				nid, err := uuid.NewRandom()
				if err != nil {
					return fmt.Errorf("generate user id: %w", err)
				}
				id = nid.String()
			}
			exists, err := a.exists(ctx, id, r.Username)
			if err != nil {
				return err
			}
			if exists {
				if skipExisting {
					res[i].Status = "skipped"
					continue
				}
				res[i].Status, res[i].Error, failed = "failed", "a user with this username or id exists (use --skip-existing)", true
				continue
			}
			u := &storage.User{
				ID: id, Username: r.Username, Email: r.Email, EmailVerified: r.EmailVerified,
				Name: r.Name, GivenName: r.GivenName, FamilyName: r.FamilyName,
				PhoneNumber: r.PhoneNumber, PhoneNumberVerified: r.PhoneNumberVerified,
				PasswordHash: r.PasswordHash, CreatedAt: now, UpdatedAt: now,
			}
			if err := a.store.CreateUser(ctx, u); err != nil {
				return fmt.Errorf("create user %q: %w", r.Username, err)
			}
			res[i].ID = id
			kind := "argon2id"
			if password.IsBcrypt(r.PasswordHash) {
				kind = "bcrypt"
			}
			if err := a.store.AppendAudit(ctx, actor.event(now, ActionUserImport, id, map[string]string{
				"username": r.Username, "hash_format": kind,
			})); err != nil {
				return err
			}
		}
		if failed {
			return ErrUserImportFailed
		}
		return nil
	})
	if err != nil {
		notImported(res)
		return res, err
	}
	return res, nil
}

// notImported marks the records an all-or-nothing import did not write
// although they were valid.
func notImported(res []UserImportResult) {
	for i := range res {
		if res[i].Status == "created" {
			res[i].Status, res[i].ID = "not imported", ""
		}
	}
}

// exists reports whether a user has id or username.
func (a *UserAdmin) exists(ctx context.Context, id, username string) (bool, error) {
	for _, get := range []func() (*storage.User, error){
		func() (*storage.User, error) { return a.store.GetUser(ctx, id) },
		func() (*storage.User, error) { return a.store.GetUserByUsername(ctx, username) },
	} {
		_, err := get()
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return false, fmt.Errorf("look up user: %w", err)
		}
	}
	return false, nil
}

// Export returns every user ordered by username, with password hashes only
// when withHashes is set.
func (a *UserAdmin) Export(ctx context.Context, withHashes bool) ([]UserRecord, error) {
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]UserRecord, len(users))
	for i, u := range users {
		out[i] = UserRecord{
			ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
			Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
			PhoneNumber: u.PhoneNumber, PhoneNumberVerified: u.PhoneNumberVerified,
		}
		if withHashes {
			out[i].PasswordHash = u.PasswordHash
		}
	}
	return out, nil
}
