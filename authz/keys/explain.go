package keys

import (
	"errors"

	"github.com/strongroom/strongroom/authz/usererr"
)

// Explain returns a user-facing error for the lifecycle's refusals (the
// next key not ready, a concurrent rotation, a wrong key-encryption key…),
// wrapping err; nil when err is none of them. Hints name no command or
// flag: callers (CLI, admin API) add their own.
func Explain(err error) *usererr.Error {
	if ue := usererr.As(err); ue != nil {
		return ue
	}
	for _, e := range []struct {
		sentinel  error
		msg, hint string
	}{
		{ErrNextNotReady, "The next signing key has not been published long enough to sign yet; nothing was changed.",
			"Rotate again once it may sign (see its signs_from), or force the rotation in an emergency."},
		{ErrAlreadyRotated, "Another rotation changed the signing keys at the same time; nothing was changed by this one.",
			"List the keys before rotating again."},
		{ErrDecrypt, "A signing key could not be decrypted; nothing was changed.",
			"Check that the key-encryption key (STRONGROOM_KEK) is the one the servers run with."},
		{ErrNoActiveKey, "There is no active signing key.", "The server creates the first keys when it starts."},
		{ErrKeyNotFound, "No signing key has that kid.", "List the keys to find it."},
		{ErrAlreadyRevoked, "That signing key is already revoked.", ""},
		{ErrUnsupportedAlg, "That signing algorithm is not supported.", "Use RS256, PS256, ES256 or EdDSA."},
		{ErrSameKEK, "The new key-encryption key is the old one; nothing was changed.", "Generate a new one."},
		{ErrInvalidKEK, "The key-encryption key is not valid.", "It must be 32 random bytes, base64-encoded."},
	} {
		if errors.Is(err, e.sentinel) {
			return usererr.New(err, e.msg, e.hint)
		}
	}
	return nil
}
