package storage

import (
	"errors"
	"fmt"
	"slices"
)

// CheckKeySet rejects a key set with an empty or repeated kid. Every Keys
// implementation runs it on what an UpdateKeys callback returns, before
// writing anything.
func CheckKeySet(keys []SigningKey) error {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k.KID == "" {
			return errors.New("a key has an empty kid")
		}
		if seen[k.KID] {
			return fmt.Errorf("kid %q appears twice", k.KID)
		}
		seen[k.KID] = true
	}
	return nil
}

// OmittedKIDs returns, in the order of old, the kids of the keys in old that
// kept no longer holds: the keys UpdateKeys deletes.
func OmittedKIDs(old, kept []SigningKey) []string {
	var omitted []string
	for _, k := range old {
		if !slices.ContainsFunc(kept, func(n SigningKey) bool { return n.KID == k.KID }) {
			omitted = append(omitted, k.KID)
		}
	}
	return omitted
}
