package password

import (
	_ "embed" // the common-password list
	"strings"
	"sync"
	"unicode"
)

// commonPasswordList is a few thousand of the most common passwords, one a
// line (see the file's header for its sources).
//
//go:embed commonpasswords.txt
var commonPasswordList string

// commonPasswords parses the embedded list once; the set is never modified.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 4096)
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// IsCommon reports whether password is on the shipped list of common
// passwords, compared without regard to case, also after removing digits
// and symbols added at either end ("Password2024!" is "password"), or is one
// character repeated.
func IsCommon(password string) bool {
	p := strings.ToLower(strings.TrimSpace(password))
	if p == "" {
		return true
	}
	set := commonPasswords()
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	for _, v := range []string{p, strings.TrimRightFunc(p, notLetter), strings.TrimLeftFunc(p, notLetter),
		strings.TrimFunc(p, notLetter)} {
		if _, ok := set[v]; ok && v != "" {
			return true
		}
	}
	first := []rune(p)[0]
	return strings.Trim(p, string(first)) == ""
}
