package storage

import (
	"slices"
	"testing"
)

func TestCheckKeySet(t *testing.T) {
	for name, tc := range map[string]struct {
		kids []string
		ok   bool
	}{
		"ok/empty-set":    {nil, true},
		"ok/distinct":     {[]string{"a", "b"}, true},
		"fail/empty-kid":  {[]string{"a", ""}, false},
		"fail/repeat-kid": {[]string{"a", "b", "a"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckKeySet(keysOf(tc.kids...))
			if (err == nil) != tc.ok {
				t.Fatalf("CheckKeySet(%q) = %v, want ok=%v", tc.kids, err, tc.ok)
			}
		})
	}
}

func TestOmittedKIDs(t *testing.T) {
	got := OmittedKIDs(keysOf("c", "b", "a"), keysOf("b", "d"))
	if want := []string{"c", "a"}; !slices.Equal(got, want) {
		t.Fatalf("OmittedKIDs = %q, want %q", got, want)
	}
	if got := OmittedKIDs(keysOf("a"), keysOf("a")); got != nil {
		t.Fatalf("nothing omitted: got %q", got)
	}
}

func keysOf(kids ...string) []SigningKey {
	out := make([]SigningKey, len(kids))
	for i, kid := range kids {
		out[i] = SigningKey{KID: kid}
	}
	return out
}
