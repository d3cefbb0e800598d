package postgres

import "time"

// Values cross the database boundary in one canonical form so that both
// storage implementations return the same thing: times in UTC, empty slices
// as nil.

// utc returns t in UTC.
func utc(t time.Time) time.Time { return t.UTC() }

// utcPtr returns a pointer to a UTC copy of *t, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// strs returns s for a NOT NULL text[] column: nil becomes empty.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nilIfEmpty returns nil for an empty slice read from the database.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
