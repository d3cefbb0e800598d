package mfa

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/strongroom/strongroom/storage"
)

// TOTP parameters (RFC 6238): 30-second steps, 6 digits, HMAC-SHA1, the
// combination every authenticator app supports; a 160-bit secret (RFC 4226 §4).
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20
	// totpSkew accepts the codes of one step before and after the current
	// one (clock drift, RFC 6238 §5.2) and no more.
	totpSkew = 1
)

// RecoveryCodeCount is how many one-time recovery codes an enrolment issues.
const RecoveryCodeCount = 10

// Second-factor errors. None of them says which part was wrong.
var (
	// ErrInvalidCode: a TOTP or recovery code that does not match (wrong,
	// malformed, or from outside the ±1 step window).
	ErrInvalidCode = errors.New("the code is not valid")
	// ErrCodeReused: a TOTP code whose time step was already used.
	ErrCodeReused = errors.New("the code was already used")
	// ErrAlreadyEnrolled: the user has this factor already.
	ErrAlreadyEnrolled = errors.New("a second factor is already set up")
)

// secretBox seals second-factor secrets at rest with AES-256-GCM under a key
// derived from the system secret. The associated data binds each sealed
// value to its user, so rows cannot be swapped between users.
type secretBox struct{ aead cipher.AEAD }

func newSecretBox(key []byte) (*secretBox, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("TOTP cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("TOTP cipher: %w", err)
	}
	return &secretBox{aead: aead}, nil
}

func (b *secretBox) seal(plain []byte, ad string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(ad)), nil
}

func (b *secretBox) open(sealed []byte, ad string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	return plain, nil
}

func totpAD(userID string) string { return "totp:" + userID }

// TOTPOffer is what the enrolment page shows: a QR code of the otpauth://
// URI, and the secret for manual entry.
type TOTPOffer struct {
	Secret    string // base32, as authenticator apps expect it typed
	URL       string // otpauth://totp/...
	QRDataURL string // data:image/png;base64,... of the QR code
}

// BeginTOTP returns the user's pending (unconfirmed) TOTP enrolment,
// creating it when there is none, so that reloading the page shows the same
// code. ErrAlreadyEnrolled if the user has a confirmed one.
func (s *Service) BeginTOTP(ctx context.Context, user *storage.User) (*TOTPOffer, error) {
	var secret []byte // raw secret of a pending enrolment, reused
	old, err := s.store.GetTOTP(ctx, user.ID)
	switch {
	case err == nil && old.Confirmed:
		return nil, ErrAlreadyEnrolled
	case err == nil:
		plain, err := s.box.open(old.SecretEnc, totpAD(user.ID))
		if err != nil {
			return nil, err
		}
		if secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(plain)); err != nil {
			return nil, fmt.Errorf("decode stored TOTP secret: %w", err)
		}
	case errors.Is(err, storage.ErrNotFound):
	default:
		return nil, fmt.Errorf("get TOTP enrolment: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.productName, AccountName: user.Username, Secret: secret,
		Period: totpPeriod, SecretSize: totpSecretSize, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("generate TOTP key: %w", err)
	}
	if secret == nil {
		sealed, err := s.box.seal([]byte(key.Secret()), totpAD(user.ID))
		if err != nil {
			return nil, err
		}
		if err := s.store.SaveTOTP(ctx, &storage.TOTPEnrolment{UserID: user.ID, SecretEnc: sealed, CreatedAt: s.now()}); err != nil {
			return nil, fmt.Errorf("save TOTP enrolment: %w", err)
		}
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("render TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode TOTP QR code: %w", err)
	}
	return &TOTPOffer{
		Secret: key.Secret(), URL: key.URL(),
		QRDataURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

// CheckTOTP verifies code against the user's enrolment (confirmed or, when
// confirming, pending) and consumes its time step: each code works once.
func (s *Service) CheckTOTP(ctx context.Context, userID, code string, confirming bool) error {
	e, err := s.store.GetTOTP(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("get TOTP enrolment: %w", err)
	}
	if e.Confirmed == confirming {
		if confirming {
			return ErrAlreadyEnrolled
		}
		return ErrInvalidCode
	}
	secret, err := s.box.open(e.SecretEnc, totpAD(userID))
	if err != nil {
		return err
	}
	step, ok := matchTOTP(string(secret), code, s.now())
	if !ok {
		return ErrInvalidCode
	}
	err = s.store.UseTOTPStep(ctx, userID, step, s.now())
	if errors.Is(err, storage.ErrConflict) {
		return ErrCodeReused
	}
	if err != nil {
		return fmt.Errorf("record TOTP step: %w", err)
	}
	return nil
}

// matchTOTP returns the time step whose code equals code, looking at the
// current step and totpSkew steps either side. Every candidate is compared
// in constant time.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	current := now.Unix() / totpPeriod
	var found int64
	ok := false
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}

// NewRecoveryCodes issues RecoveryCodeCount fresh codes for the user,
// replacing any old ones, and returns them for display (the only time they
// are shown). Each has 60 random bits, written as xxxx-xxxx-xxxx.
func (s *Service) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford base32
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("read random: %w", err)
		}
		for j := range b {
			b[j] = alphabet[b[j]&31]
		}
		codes[i] = string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
		hashes[i] = s.recoveryHash(userID, codes[i])
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, userID, hashes, s.now()); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

// recoveryHash is the stored form of a recovery code: HMAC-SHA256 under a
// key derived from the system secret, over the user id and the normalised
// code. The codes are server-generated with 60 random bits, so (as for
// client secrets) a slow password hash would only add cost: without the key,
// a copy of the database cannot test a single guess offline; with it, the
// attacker holds the TOTP key too.
func (s *Service) recoveryHash(userID, code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ':
			return -1
		case 'o':
			return '0'
		case 'i', 'l':
			return '1'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	m := hmac.New(sha256.New, s.recoveryKey)
	m.Write([]byte(userID + ":" + norm))
	return m.Sum(nil)
}

// UseRecoveryCode consumes one of the user's recovery codes.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	if len(code) > 64 {
		return ErrInvalidCode
	}
	err := s.store.UseRecoveryCode(ctx, userID, s.recoveryHash(userID, code), s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	return nil
}
