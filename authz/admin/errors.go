package admin

import (
	"errors"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/usererr"
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

// Explain returns err as a user-facing error (what happened, what to do),
// wrapping it: the one already in its chain, a signing-key refusal
// (keys.Explain), or the store's kinds (unavailable, conflict); nil for
// other errors, whose messages are already meant for people (validation
// problems, "user not found") or are internal.
func Explain(err error) *usererr.Error {
	if err == nil {
		return nil
	}
	if ue := keys.Explain(err); ue != nil {
		return ue
	}
	switch {
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, ErrUnavailable):
		return usererr.New(err, "The database is unavailable; nothing was changed.",
			"Check that it runs and that the database URL points at it, then retry.")
	case errors.Is(err, storage.ErrAlreadyExists):
		return usererr.New(err, "Something with that id or name already exists; nothing was changed.", "Choose another, or change the existing one.")
	case errors.Is(err, storage.ErrConflict):
		return usererr.New(err, "Another change to the same data happened at the same time; nothing was changed.",
			"Read the current state and retry.")
	}
	return nil
}
