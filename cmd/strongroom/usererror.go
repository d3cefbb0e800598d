package main

import (
	"errors"
	"strings"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/usererr"
	"github.com/strongroom/strongroom/storage"
)

// explain returns err for the terminal: what happened (the lifecycle's or
// the store's user-facing message; a remote admin API's problem detail as
// it is, already one) and hint, the CLI's own advice (a flag, a command),
// with err kept as the cause.
func explain(err error, hint string) error {
	msg := err.Error()
	switch ue := usererr.As(err); {
	case ue != nil:
		msg = ue.Message
	case strings.HasPrefix(msg, "keys:"): // the local lifecycle's chain
		if ke := keys.Explain(err); ke != nil {
			msg = ke.Message
		}
	}
	return usererr.New(err, msg, hint)
}

// userLines is what printError shows of err: a user-facing error's message
// and hint; for an error authzadmin.Explain knows (the store's kinds, the
// signing keys' refusals), its sentence instead of the chain; else err's
// message.
func userLines(err error) []string {
	ue := usererr.As(err)
	if ue == nil && errors.Is(err, storage.ErrUnavailable) {
		// The operator's own terminal: the driver's sentence (connection
		// refused, authentication failed) tells them what to fix. It never
		// quotes the URL.
		ue = usererr.New(err, "Cannot reach the database ("+innermost(err)+"); nothing was changed.",
			"Check that it runs and that "+envDatabaseURL+" (or --database-url) points at it, then retry.")
	}
	if ue == nil {
		ue = authzadmin.Explain(err)
	}
	if ue == nil {
		return strings.Split(strings.TrimRight(err.Error(), "\n"), "\n")
	}
	lines := []string{ue.Message}
	if ue.Hint != "" {
		lines = append(lines, "hint: "+ue.Hint)
	}
	return lines
}

// innermost is the message of the deepest cause in err's chain, following
// the last of several wrapped errors (fmt.Errorf("%w: %w", kind, cause)),
// so that "storage: unavailable: failed to connect…" yields the driver's
// own sentence.
func innermost(err error) string {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				return err.Error()
			}
			err = errs[len(errs)-1]
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				return err.Error()
			}
			err = next
		default:
			return err.Error()
		}
	}
}
