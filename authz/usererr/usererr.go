// Package usererr is the error told to a person: what happened and what to
// do, in sentences, while the cause (a chain such as "keys: rotate RS256:
// postgres: update keys: …") is kept for the logs. The CLI prints it, the
// admin API puts it in a problem's detail and audit events record its
// message, so none of them shows a chain of package prefixes.
package usererr

import "errors"

// Error is a user-facing error.
type Error struct {
	// Message says what happened, in one sentence.
	Message string
	// Hint says what to do about it; may be empty.
	Hint string
	// Err is the cause, for logs; never shown to the user.
	Err error
}

// New returns an Error wrapping cause.
func New(cause error, message, hint string) *Error {
	return &Error{Message: message, Hint: hint, Err: cause}
}

// Error is the message followed by the hint.
func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + " " + e.Hint
}

// Unwrap returns the cause, so errors.Is still classifies the error.
func (e *Error) Unwrap() error { return e.Err }

// As returns the user-facing error in err's chain, or nil.
func As(err error) *Error {
	var ue *Error
	if errors.As(err, &ue) {
		return ue
	}
	return nil
}
