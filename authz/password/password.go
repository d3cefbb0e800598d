package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/strongroom/strongroom/storage"
)

// Argon2Params are argon2id cost parameters. The defaults are OWASP's
// recommended minimum (m=19 MiB, t=2, p=1).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is OWASP's recommended argon2id configuration.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinLength is the shortest password accepted for a user.
const MinLength = 12

// MaxLength bounds the work an attacker can make argon2 do.
const MaxLength = 1024

// ErrInvalidCredentials is returned for an unknown user and a wrong password alike.
var ErrInvalidCredentials = errors.New("invalid username or password")

// Hash returns an argon2id hash in PHC string format.
func Hash(password string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// MaxBcryptCost bounds the cost of an imported bcrypt hash, so that a stored
// hash cannot make a login compute without limit (2^14 rounds is well above
// what other systems use).
const MaxBcryptCost = 14

// IsBcrypt reports whether hash looks like a bcrypt hash ($2a$, $2b$, $2y$).
// Such hashes are accepted only from `users import`; the first successful
// login replaces them with argon2id.
func IsBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// CheckImportedHash accepts a hash users may be imported with: argon2id in
// PHC format with parameters in range, or bcrypt with a cost of at most
// MaxBcryptCost. The error never quotes the hash.
func CheckImportedHash(hash string) error {
	if IsBcrypt(hash) {
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return errors.New("bcrypt hash is malformed")
		}
		if cost > MaxBcryptCost {
			return fmt.Errorf("bcrypt cost %d is above %d", cost, MaxBcryptCost)
		}
		return nil
	}
	if _, _, _, err := parseArgon2(hash); err != nil {
		return errors.New("password hash is neither argon2id (PHC) nor bcrypt ($2a$, $2b$, $2y$) with valid parameters")
	}
	return nil
}

// Verify checks password against a PHC argon2id hash in constant time, or
// against a bcrypt hash (imported users, until their first login rehashes it).
func Verify(hash, password string) (bool, error) {
	if IsBcrypt(hash) {
		return verifyBcrypt(hash, password)
	}
	p, salt, want, err := parseArgon2(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want))) // #nosec G115 -- the stored hash length is argon2id's (32 bytes), checked when the PHC string is parsed
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseArgon2 parses a PHC argon2id hash with parameters in range, without
// computing anything.
func parseArgon2(hash string) (p Argon2Params, salt, want []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password hash is not argon2id PHC")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	if p, err = hashParams(hash); err != nil {
		return p, nil, nil, err
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("decode salt: %w", err)
	}
	if want, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("decode hash: %w", err)
	}
	if len(want) == 0 || len(want) > 1024 {
		return p, nil, nil, errors.New("argon2 hash out of range")
	}
	return p, salt, want, nil
}

// verifyBcrypt checks password against a bcrypt hash of bounded cost.
func verifyBcrypt(hash, password string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return false, errors.New("bcrypt hash is malformed")
	}
	if cost > MaxBcryptCost {
		return false, errors.New("bcrypt cost out of range")
	}
	err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
		return false, nil
	default:
		return false, errors.New("bcrypt hash is malformed")
	}
}

// Validate applies the password policy.
func Validate(password string) error {
	switch {
	case len([]rune(password)) < MinLength:
		return fmt.Errorf("password must be at least %d characters", MinLength)
	case len(password) > MaxLength:
		return fmt.Errorf("password must be at most %d bytes", MaxLength)
	case IsCommon(password):
		return ErrCommon
	}
	return nil
}

// ErrCommon refuses a password found on the list of common passwords.
var ErrCommon = errors.New("password is too common (it appears on lists of leaked passwords); choose another")

// Authenticator checks end-user passwords. An unknown user costs the same
// argon2id computation as a known one (a dummy hash), so the two cannot be
// told apart by timing, and both give ErrInvalidCredentials.
//
// A hash made with other parameters than the current ones (Params) is
// replaced on the next successful login, so raising the cost reaches every
// active user without a password reset.
//
// Every argon2id computation runs under Limiter: when it has no slot,
// Authenticate returns *BusyError without checking anything.
type Authenticator struct {
	users storage.Users
	dummy string
	// Params are the current argon2id parameters (DefaultArgon2).
	Params Argon2Params
	// Limiter bounds concurrent computations (NewHashLimiter defaults).
	Limiter *HashLimiter
	now     func() time.Time
}

// passwordUpdater is the storage method that rehashing needs.
type passwordUpdater interface {
	UpdatePasswordHash(ctx context.Context, userID, hash string, at time.Time) error
}

// NewAuthenticator returns an authenticator over users.
func NewAuthenticator(users storage.Users) (*Authenticator, error) {
	dummy, err := Hash("strongroom-dummy-password-for-timing", DefaultArgon2)
	if err != nil {
		return nil, err
	}
	return &Authenticator{users: users, dummy: dummy, Params: DefaultArgon2, Limiter: NewHashLimiter(HashLimits{}), now: time.Now}, nil
}

// verify checks password against hash in a Limiter slot.
func (a *Authenticator) verify(ctx context.Context, hash, password string) (ok bool, err error) {
	if lerr := a.Limiter.Do(ctx, func() { ok, err = Verify(hash, password) }); lerr != nil {
		return false, lerr
	}
	return ok, err
}

// Authenticate returns the user whose username and password match. It
// returns *BusyError (ErrBusy) when no hashing slot came free in time,
// for known and unknown users alike.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (*storage.User, error) {
	if len(password) > MaxLength || len(username) > 256 {
		if _, err := a.verify(ctx, a.dummy, ""); errors.Is(err, ErrBusy) {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	u, err := a.users.GetUserByUsername(ctx, username)
	if errors.Is(err, storage.ErrNotFound) {
		if _, err := a.verify(ctx, a.dummy, password); errors.Is(err, ErrBusy) {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	ok, err := a.verify(ctx, u.PasswordHash, password)
	if errors.Is(err, ErrBusy) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("verify password of user %s: %w", u.ID, err)
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	a.rehash(ctx, u, password)
	return u, nil
}

// rehash replaces u's hash when its parameters differ from a.Params, or
// when it is not argon2id at all (an imported bcrypt hash). It is
// best effort: a failure leaves the old hash, and the next login tries again.
func (a *Authenticator) rehash(ctx context.Context, u *storage.User, password string) {
	p, err := hashParams(u.PasswordHash)
	if err == nil && p == a.Params {
		return
	}
	up, ok := a.users.(passwordUpdater)
	if !ok {
		return
	}
	var hash string
	if lerr := a.Limiter.Do(ctx, func() { hash, err = Hash(password, a.Params) }); lerr != nil || err != nil {
		return // busy: the next login rehashes
	}
	if err := up.UpdatePasswordHash(ctx, u.ID, hash, a.now()); err == nil {
		u.PasswordHash = hash
	}
}

// hashParams returns the argon2id parameters of a PHC hash.
func hashParams(hash string) (Argon2Params, error) {
	var p Argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, errors.New("password hash is not argon2id PHC")
	}
	// Exactly "m=<n>,t=<n>,p=<n>": Sscanf alone would accept trailing text.
	var rest string
	if n, _ := fmt.Sscanf(parts[3]+" end", "m=%d,t=%d,p=%d %s", &p.Memory, &p.Time, &p.Threads, &rest); n != 4 || rest != "end" {
		return p, errors.New("parse argon2 parameters: want m=<KiB>,t=<passes>,p=<lanes>")
	}
	// Bounds: a stored hash must not make a login allocate or compute without
	// limit (at most 1 GiB of memory and 64 passes).
	if p.Time == 0 || p.Time > 64 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20 {
		return p, errors.New("argon2 parameters out of range")
	}
	return p, nil
}

// Change applies the password policy, hashes password with the
// current parameters and stores it for the user (users set-password).
func Change(ctx context.Context, store storage.UserMFA, userID, password string, now time.Time) error {
	if err := Validate(password); err != nil {
		return err
	}
	hash, err := Hash(password, DefaultArgon2)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := store.UpdatePasswordHash(ctx, userID, hash, now); err != nil {
		return fmt.Errorf("store password: %w", err)
	}
	return nil
}
