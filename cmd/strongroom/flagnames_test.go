package main

import (
	"strings"
	"testing"
)

// TestFlagsNamedOneWay: help shows one family of names (--*-lifespan,
// --secret-expires-in) and never the old names, which stay as hidden
// aliases; required flags are marked in help.
func TestFlagsNamedOneWay(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"serve", "--help"}, []string{"--jwks-cache-lifespan", "--access-token-lifespan"}, []string{"--jwks-cache-lifetime"}},
		{[]string{"keys", "rotate", "--help"}, []string{"--jwks-cache-lifespan", "--max-token-lifespan"}, []string{"--jwks-cache-lifetime", "--max-token-lifetime"}},
		{[]string{"clients", "rotate-secret", "--help"}, []string{"--secret-expires-in"}, []string{"  --expires-in"}},
		{[]string{"clients", "create", "--help"}, []string{"--secret-expires-in"}, []string{"  --expires-in"}},
	} {
		r := mustRun(t, env{}, "", tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%v lacks %q", tc.args, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.out, n) {
				t.Errorf("%v shows the old name %q", tc.args, n)
			}
		}
	}
	// Required flags say so in help.
	help := mustRun(t, env{}, "", "clients", "create", "--help").out
	for _, flag := range []string{"--name", "--grant-type", "--auth-method"} {
		line := ""
		_, flags, _ := strings.Cut(help, "\nFlags:\n")
		for _, l := range strings.Split(flags, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), flag+" ") || strings.Contains(l, ", "+flag+" ") {
				line = l
				break
			}
		}
		if !strings.Contains(line, "(required)") {
			t.Errorf("help of %s does not say required: %q", flag, line)
		}
	}
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{} {
		r := mustRun(t, env{}, "", tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%v lacks %q", tc.args, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.out, n) {
				t.Errorf("%v shows the old name %q", tc.args, n)
			}
		}
	}
}

// TestClientsRotateSecretNewAndOldExpiryFlag: rotate-secret takes
// --secret-expires-in (as create does) and still the old --expires-in.
func TestClientsRotateSecretNewAndOldExpiryFlag(t *testing.T) {
	e := newEnv(t)
	id, _ := createPartner(t, e)
	for _, flag := range []string{"--secret-expires-in", "--expires-in"} {
		m := decodeObject(t, mustRun(t, e, "", "clients", "rotate-secret", id, "--grace", "0", "--yes", flag, "2160h", "-o", "json").out)
		if m["expires_at"] == nil {
			t.Errorf("%s: the new secret has no expiry: %v", flag, m)
		}
	}
	wantFail(t, run(t, e, "", "clients", "rotate-secret", id, "--grace", "1h", "--secret-expires-in", "-1h"), exitUsage, "--secret-expires-in must not be negative")
}
