package admin

import (
	"errors"

	"github.com/strongroom/strongroom/storage"
)

// Errors of the administration services, which the admin API and the CLI
// map to their answers with errors.Is. Errors of the store keep their chain
// (and their message) and also match one of the first three kinds.
var (
	// ErrNotFound: the named client, user, secret or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with the stored state (a taken
	// name or id, a concurrent change).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database cannot be reached; retry later.
	ErrUnavailable = errors.New("unavailable")

	// ErrTooManySecrets: the client already holds two live secrets (a
	// rotation is in its grace period); revoke one first.
	ErrTooManySecrets = errors.New("the client already has two live secrets; revoke one with revoke-secret first")
	// ErrNoSecretAuth: the client does not authenticate with a secret
	// (public or private_key_jwt), so it has none to rotate.
	ErrNoSecretAuth = errors.New("the client does not authenticate with a client secret")
	// ErrSecretNotFound: no secret of the client has that id.
	ErrSecretNotFound = errors.New("secret not found")
)

// kindError is an error of a given kind that keeps its cause's message
// and chain.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// ErrorKind returns err so that errors.Is(err, ErrNotFound), ErrConflict or
// ErrUnavailable holds when the store's corresponding error is in its chain;
// other errors come back as they are. The admin API passes every error
// through it before mapping it to a status, so that it never needs the
// store's errors (those of the services beside these, sessions and signing
// keys, included).
func ErrorKind(err error) error { return domainError(err) }

func domainError(err error) error {
	if err == nil {
		return nil
	}
	var kind error
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, storage.ErrNotFound):
		kind = ErrNotFound
	case errors.Is(err, storage.ErrAlreadyExists), errors.Is(err, storage.ErrConflict):
		kind = ErrConflict
	case errors.Is(err, storage.ErrUnavailable):
		kind = ErrUnavailable
	default:
		return err
	}
	return &kindError{kind: kind, err: err}
}
