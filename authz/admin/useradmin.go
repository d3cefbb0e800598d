package admin

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// maxUsernameLen bounds usernames, in characters.
const maxUsernameLen = 64

// UserSpec is a new end user as the admin API receives it. The password is
// hashed with argon2id and never stored, logged or audited.
type UserSpec struct {
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	// PhoneNumber is E.164 ('+' then 8 to 15 digits), unverified.
	PhoneNumber string `json:"phone_number,omitempty"`
	Password    string `json:"password"`
}

// UserInfo is a user as listed: never the password hash.
type UserInfo struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	PhoneNumber   string `json:"phone_number,omitempty"`
	// PhoneNumberVerified is always present, like EmailVerified.
	PhoneNumberVerified bool      `json:"phone_number_verified"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func userInfo(u *storage.User) UserInfo {
	return UserInfo{
		ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		PhoneNumber: u.PhoneNumber, PhoneNumberVerified: u.PhoneNumberVerified,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

// UserAdmin manages end users for operators, with audit events written in
// the same transaction as each change.
type UserAdmin struct {
	store   storage.Store
	now     func() time.Time
	argon2  password.Argon2Params
	limiter *password.HashLimiter // nil: unbounded (the CLI hashes one password per process)
}

// NewUserAdmin returns the service over store; now may be nil (time.Now).
func NewUserAdmin(store storage.Store, now func() time.Time) *UserAdmin {
	if now == nil {
		now = time.Now
	}
	return &UserAdmin{store: store, now: now, argon2: password.DefaultArgon2}
}

// WithHashLimiter makes Create hash passwords in l's slots, the ones logins
// use (the password.Authenticator's Limiter the browser flow checks
// passwords with), so a burst of user creations through the admin
// API cannot run more argon2id computations at once than the login page
// may; beyond them Create returns password.ErrBusy.
func (a *UserAdmin) WithHashLimiter(l *password.HashLimiter) *UserAdmin {
	a.limiter = l
	return a
}

// check validates s, reporting every problem at once. Usernames are 1–64
// characters without whitespace and never a UUID (user ids are UUIDs, and
// lookups take either).
func (s *UserSpec) check() error {
	var p registration.Problems
	switch n := len([]rune(s.Username)); {
	case n == 0:
		p.Add("username must not be empty")
	case n > maxUsernameLen:
		p.Add("username must be at most %d characters", maxUsernameLen)
	case strings.ContainsFunc(s.Username, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		p.Add("username must not contain whitespace or control characters")
	default:
		if _, err := uuid.Parse(s.Username); err == nil {
			p.Add("username must not be a UUID (user ids are UUIDs)")
		}
	}
	if s.Email != "" {
		if addr, err := mail.ParseAddress(s.Email); err != nil || addr.Address != s.Email || addr.Name != "" {
			p.Add("email %q is not an email address", s.Email)
		}
	}
	if len([]rune(s.Name)) > 200 || strings.ContainsFunc(s.Name, unicode.IsControl) {
		p.Add("name must be at most 200 characters without control characters")
	}
	if err := CheckPhoneNumber(s.PhoneNumber); err != nil {
		p.Add("%v", err)
	}
	if err := password.Validate(s.Password); err != nil {
		p.Add("password: %v", err)
	}
	return p.Err()
}

// Create adds a user; an error matching ErrConflict if the username is
// taken.
func (a *UserAdmin) Create(ctx context.Context, actor Actor, s UserSpec) (*UserInfo, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("generate user id: %w", err)
	}
	var hash string
	hashIt := func() { hash, err = password.Hash(s.Password, a.argon2) }
	if a.limiter == nil {
		hashIt()
	} else if lerr := a.limiter.Do(ctx, hashIt); lerr != nil {
		return nil, lerr
	}
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := a.now().UTC()
	u := &storage.User{
		ID: id.String(), Username: s.Username, Email: s.Email, Name: s.Name, PhoneNumber: s.PhoneNumber,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	err = storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.CreateUser(ctx, u); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return fmt.Errorf("username %q is already taken: %w", s.Username, storage.ErrAlreadyExists)
			}
			return fmt.Errorf("create user: %w", err)
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserCreate, u.ID, map[string]string{"username": u.Username}))
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, &kindError{kind: ErrConflict, err: err}
	}
	if err != nil {
		return nil, err
	}
	info := userInfo(u)
	return &info, nil
}

// Get finds a user by id (a UUID) or username.
func (a *UserAdmin) Get(ctx context.Context, ref string) (*UserInfo, error) {
	u, err := a.find(ctx, ref)
	if err != nil {
		return nil, err
	}
	info := userInfo(u)
	return &info, nil
}

func (a *UserAdmin) find(ctx context.Context, ref string) (*storage.User, error) {
	if _, err := uuid.Parse(ref); err == nil {
		u, err := a.store.GetUser(ctx, ref)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("get user: %w", err)
		}
	}
	u, err := a.store.GetUserByUsername(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{Kind: "user", ID: ref}
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// List returns every user ordered by username.
func (a *UserAdmin) List(ctx context.Context) ([]UserInfo, error) {
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]UserInfo, len(users))
	for i := range users {
		out[i] = userInfo(&users[i])
	}
	return out, nil
}

// Delete removes a user (by id or username) and signs them out everywhere,
// in one transaction: their live sessions end first, queuing back-channel
// logout to each client they signed in to; then the user goes with every
// token issued for them (authorization codes, access and refresh tokens,
// PKCE and OIDC state), their consents, second factors and pending
// sign-ins (storage.Users.DeleteUser).
func (a *UserAdmin) Delete(ctx context.Context, actor Actor, ref string) error {
	u, err := a.find(ctx, ref)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	sessions := &authz.SessionManager{Store: a.store, Now: a.now}
	return storage.InTx(ctx, a.store, func(ctx context.Context) error {
		ended, err := sessions.EndUserSessions(ctx, u.ID, actor.name(), "user deleted")
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := a.store.DeleteUser(ctx, u.ID); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return &NotFoundError{Kind: "user", ID: ref}
			}
			return fmt.Errorf("delete user: %w", err)
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionUserDelete, u.ID, map[string]string{
			"username": u.Username, "sessions_ended": strconv.Itoa(ended),
		}))
	})
}
