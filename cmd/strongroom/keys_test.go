package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/postgres"
)

// newKeysEnv returns an environment with a database and a KEK, and the
// store to seed and inspect it with.
func newKeysEnv(t *testing.T) (env, *postgres.Store, []byte) {
	t.Helper()
	e := newEnv(t)
	encoded, err := keys.GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	e[envKEK] = encoded
	e["USER"] = "carol"
	kek, err := keys.ParseKEK(encoded)
	if err != nil {
		t.Fatal(err)
	}
	return e, openTestStore(t, e), kek
}

// seedKey stores a key of alg in state, created and published age ago.
func seedKey(t *testing.T, s storage.Keys, kek []byte, alg, state string, age time.Duration) storage.SigningKey {
	t.Helper()
	at := time.Now().Add(-age).UTC().Truncate(time.Microsecond)
	k, err := keys.Generate(kek, alg, at)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.PublishedAt = state, &at
	if state != storage.KeyStateNext {
		k.ActivatedAt = &at
	}
	if state == storage.KeyStateRetired {
		k.RetiredAt = &at
	}
	if state == storage.KeyStateRevoked {
		k.RevokedAt = &at
	}
	if err := s.CreateKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return *k
}

func storedKeys(t *testing.T, s storage.Keys) []storage.SigningKey {
	t.Helper()
	ks, err := s.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func stateOf(t *testing.T, ks []storage.SigningKey, kid string) string {
	t.Helper()
	for _, k := range ks {
		if k.KID == kid {
			return k.State
		}
	}
	return "(none)"
}

func inState(ks []storage.SigningKey, alg, state string) []storage.SigningKey {
	var out []storage.SigningKey
	for _, k := range ks {
		if k.Alg == alg && k.State == state {
			out = append(out, k)
		}
	}
	return out
}

// keysUnchanged fails unless the stored keys are exactly before.
func keysUnchanged(t *testing.T, s storage.Keys, before []storage.SigningKey) {
	t.Helper()
	if after := storedKeys(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("keys changed:\n got %+v\nwant %+v", after, before)
	}
}

func keyAudit(t *testing.T, s storage.Audit, action string) []storage.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// noKeyMaterial fails if any private key ciphertext shows in out.
func noKeyMaterial(t *testing.T, out string, ks []storage.SigningKey) {
	t.Helper()
	for _, k := range ks {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding, base64.URLEncoding} {
			if s := enc.EncodeToString(k.PrivateEnc); strings.Contains(out, s[:24]) {
				t.Fatalf("private key material of %s in the output", k.KID)
			}
		}
	}
	if strings.Contains(out, `"d":`) { // the private exponent of a JWK
		t.Fatalf("output holds a private JWK member: %s", out)
	}
}

func TestKeysList(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
	next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Hour)
	retired := seedKey(t, store, kek, keys.ES256, storage.KeyStateRetired, 48*time.Hour)
	revoked := seedKey(t, store, kek, keys.EdDSA, storage.KeyStateRevoked, 2*time.Hour)
	rsa := seedKey(t, store, kek, keys.RS256, storage.KeyStateActive, 72*time.Hour)

	r := mustRun(t, e, "", "keys", "list", "-o", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	wantOrder := []storage.SigningKey{rsa, active, next, retired, revoked} // RS256 first, then by state
	if len(got) != len(wantOrder) {
		t.Fatalf("%d keys listed: %s", len(got), r.out)
	}
	for i, k := range wantOrder {
		g := got[i]
		if g["kid"] != k.KID || g["alg"] != k.Alg || g["state"] != k.State || g["created_at"] == nil || g["published_at"] == nil {
			t.Errorf("key %d = %v, want %s %s %s", i, g, k.KID, k.Alg, k.State)
		}
	}
	if got[2]["signs_from"] == nil || got[1]["signs_from"] != nil {
		t.Errorf("signs_from only for the next key: %v / %v", got[2], got[1])
	}
	if got[3]["remove_after"] == nil || got[4]["remove_after"] == nil || got[4]["revoked_at"] == nil {
		t.Errorf("retired/revoked keys lack their dates: %v / %v", got[3], got[4])
	}
	all := storedKeys(t, store)
	noKeyMaterial(t, r.output(), all)

	r = mustRun(t, e, "", "keys", "list")
	for _, want := range []string{"KID", "STATE", active.KID, next.KID, "may sign from", "removable after", "revoked"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("table lacks %q:\n%s", want, r.out)
		}
	}
	noKeyMaterial(t, r.output(), all)

	// Listing needs no KEK.
	delete(e, envKEK)
	mustRun(t, e, "", "keys", "list")
}

func TestKeysRotate(t *testing.T) {
	t.Run("ok/first-rotation-publishes-a-next-key", func(t *testing.T) {
		e, store, kek := newKeysEnv(t)
		active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, time.Hour)
		r := mustRun(t, e, "", "keys", "rotate", "--alg", "ES256")
		if !strings.Contains(r.out, "published next key") || !strings.Contains(r.out, "again") {
			t.Errorf("output %q", r.out)
		}
		ks := storedKeys(t, store)
		if len(ks) != 2 || stateOf(t, ks, active.KID) != storage.KeyStateActive || len(inState(ks, keys.ES256, storage.KeyStateNext)) != 1 {
			t.Fatalf("keys %+v", ks)
		}
		evs := keyAudit(t, store, keys.ActionRotate)
		if len(evs) != 1 || evs[0].Actor != "operator:carol" || evs[0].UserAgent != keysUserAgent {
			t.Fatalf("audit %+v", evs)
		}
	})

	t.Run("ok/next-active-retired-json", func(t *testing.T) {
		e, store, kek := newKeysEnv(t)
		active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
		next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Hour)
		r := mustRun(t, e, "", "keys", "rotate", "--alg", "ES256", "--actor", "alice", "-o", "json")
		var got []map[string]any
		if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 {
			t.Fatalf("output %q: %v", r.out, err)
		}
		if got[0]["activated"] != next.KID || got[0]["retired"] != active.KID || got[0]["next"] == nil || got[0]["next_signs_from"] == nil {
			t.Fatalf("output %v", got[0])
		}
		ks := storedKeys(t, store)
		if stateOf(t, ks, next.KID) != storage.KeyStateActive || stateOf(t, ks, active.KID) != storage.KeyStateRetired ||
			stateOf(t, ks, got[0]["next"].(string)) != storage.KeyStateNext {
			t.Fatalf("keys %+v", ks)
		}
		if evs := keyAudit(t, store, keys.ActionRotate); len(evs) != 1 || evs[0].Actor != "operator:alice" || evs[0].Target != next.KID {
			t.Fatalf("audit %+v", evs)
		}
	})

	t.Run("ok/every-algorithm-by-default", func(t *testing.T) {
		e, store, kek := newKeysEnv(t)
		seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
		seedKey(t, store, kek, keys.EdDSA, storage.KeyStateActive, 24*time.Hour)
		r := mustRun(t, e, "", "keys", "rotate", "--force")
		if !strings.Contains(r.out, "ES256: key") || !strings.Contains(r.out, "EdDSA: key") {
			t.Fatalf("output %q", r.out)
		}
	})

	t.Run("fail/next-key-too-young-changes-nothing", func(t *testing.T) {
		e, store, kek := newKeysEnv(t)
		seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
		seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, 30*time.Second)
		before := storedKeys(t, store)
		r := run(t, e, "", "keys", "rotate", "--alg", "ES256")
		wantFail(t, r, exitFailure, "may sign from")
		if !strings.Contains(r.errOut, "--force") {
			t.Errorf("no hint at --force: %s", r.errOut)
		}
		keysUnchanged(t, store, before)
		// A shorter JWKS cache lifetime makes it ready; --force too.
		mustRun(t, e, "", "keys", "rotate", "--alg", "ES256", "--jwks-cache-lifetime", "10s")
	})

	t.Run("ok/force", func(t *testing.T) {
		e, store, kek := newKeysEnv(t)
		seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
		next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Second)
		mustRun(t, e, "", "keys", "rotate", "--alg", "ES256", "--force")
		if stateOf(t, storedKeys(t, store), next.KID) != storage.KeyStateActive {
			t.Fatal("forced rotation did not activate the next key")
		}
		if evs := keyAudit(t, store, keys.ActionRotate); evs[0].Details["forced"] != "true" {
			t.Errorf("audit %+v", evs[0])
		}
	})
}

// TestKeysConcurrentRotate: two `keys rotate` started together; both read
// the keys before either writes (the advisory lock is held until both wait
// for it). Exactly one rotates; the other says so and changes nothing.
func TestKeysConcurrentRotate(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
	next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Hour)

	ctx := t.Context()
	release := make(chan struct{})
	locked := make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- store.UpdateKeys(ctx, func(ks []storage.SigningKey) ([]storage.SigningKey, error) {
			close(locked)
			<-release
			return nil, errors.New("holder changes nothing")
		})
	}()
	<-locked

	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() { results[i] = run(t, e, "", "keys", "rotate", "--alg", "ES256") })
	}
	// Wait until both commands queue on the keys lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d commands waiting for the keys lock", waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if err := <-holder; err == nil {
		t.Fatal("holder committed")
	}
	wg.Wait()

	var won, lost []result
	for _, r := range results {
		if r.code == exitOK {
			won = append(won, r)
		} else {
			lost = append(lost, r)
		}
	}
	if len(won) != 1 || len(lost) != 1 {
		t.Fatalf("want one winner and one loser: %+v", results)
	}
	wantFail(t, lost[0], exitFailure, "changed the signing keys at the same time")
	if !strings.Contains(lost[0].errOut, "nothing was changed") {
		t.Errorf("loser does not say nothing changed: %s", lost[0].errOut)
	}
	ks := storedKeys(t, store)
	if len(ks) != 3 || stateOf(t, ks, next.KID) != storage.KeyStateActive || stateOf(t, ks, active.KID) != storage.KeyStateRetired ||
		len(inState(ks, keys.ES256, storage.KeyStateNext)) != 1 {
		t.Fatalf("keys after one rotation: %+v", ks)
	}
	var ok, failed int
	for _, ev := range keyAudit(t, store, keys.ActionRotate) {
		if ev.Outcome == storage.OutcomeSuccess {
			ok++
		} else {
			failed++
		}
	}
	if ok != 1 || failed != 1 {
		t.Errorf("audit: %d successes, %d failures", ok, failed)
	}
}

func TestKeysRevoke(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
	next := seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Minute)

	r := mustRun(t, e, "", "keys", "revoke", "--yes", "-o", "json", "--", active.KID)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("output %q: %v", r.out, err)
	}
	if got["kid"] != active.KID || got["previous_state"] != "active" || got["activated"] != next.KID || got["next"] == nil {
		t.Fatalf("output %v", got)
	}
	ks := storedKeys(t, store)
	if stateOf(t, ks, active.KID) != storage.KeyStateRevoked || stateOf(t, ks, next.KID) != storage.KeyStateActive {
		t.Fatalf("keys %+v", ks)
	}
	evs := keyAudit(t, store, keys.ActionRevoke)
	if len(evs) != 1 || evs[0].Target != active.KID || evs[0].Actor != "operator:carol" {
		t.Fatalf("audit %+v", evs)
	}
	r = mustRun(t, e, "", "keys", "revoke", "--yes", "--", next.KID)
	if !strings.Contains(r.out, "Revoked ES256 key "+next.KID) || !strings.Contains(r.out, "signs ES256 tokens from now on") {
		t.Errorf("output %q", r.out)
	}
}

func TestKeysRewrap(t *testing.T) {
	for name, viaStdin := range map[string]bool{"ok/file": false, "ok/stdin": true} {
		t.Run(name, func(t *testing.T) {
			e, store, kek := newKeysEnv(t)
			seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, time.Hour)
			seedKey(t, store, kek, keys.EdDSA, storage.KeyStateActive, time.Hour)
			seedKey(t, store, kek, keys.ES256, storage.KeyStateRetired, 2*time.Hour)
			newKEK, _ := keys.GenerateKEK()
			args, stdin := []string{"keys", "rewrap", "--yes", "--new-kek-file", "-"}, newKEK+"\n"
			if !viaStdin {
				f := filepath.Join(t.TempDir(), "new-kek")
				if err := os.WriteFile(f, []byte(newKEK+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args, stdin = []string{"keys", "rewrap", "--yes", "--new-kek-file", f}, ""
			}
			r := mustRun(t, e, stdin, args...)
			if !strings.Contains(r.errOut, "3/3") || !strings.Contains(r.out, "Re-encrypted 3 signing keys") {
				t.Errorf("stdout %q stderr %q", r.out, r.errOut)
			}
			if strings.Contains(r.output(), newKEK) || strings.Contains(r.output(), e[envKEK]) {
				t.Error("a KEK was printed")
			}
			decoded, _ := keys.ParseKEK(newKEK)
			m, err := keys.NewManager(store, decoded)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Reload(t.Context()); err != nil {
				t.Fatalf("keys do not load under the new KEK: %v", err)
			}
			old, _ := keys.NewManager(store, kek)
			if err := old.Reload(t.Context()); !errors.Is(err, keys.ErrDecrypt) {
				t.Fatalf("old KEK still opens the keys: %v", err)
			}
			if evs := keyAudit(t, store, keys.ActionRewrap); len(evs) != 1 || evs[0].Details["keys"] != "3" {
				t.Fatalf("audit %+v", evs)
			}
		})
	}
}

// TestKeysBadInput: every bad input is a clear error with the right exit
// code, and the keys stay exactly as they were.
func TestKeysBadInput(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	active := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
	seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, 10*time.Second)
	revoked := seedKey(t, store, kek, keys.ES256, storage.KeyStateRevoked, time.Hour)
	before := storedKeys(t, store)

	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	otherKEK, _ := keys.GenerateKEK()
	goodNew, _ := keys.GenerateKEK()
	goodFile := file("good", goodNew)
	with := func(k, v string) env {
		c := env{}
		for key, val := range e {
			c[key] = val
		}
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}

	tests := map[string]struct {
		env   env
		stdin string
		args  []string
		code  int
		msg   string
	}{
		"fail/revoke-unknown-kid":        {args: []string{"keys", "revoke", "no-such-kid", "--yes"}, code: exitFailure, msg: `no signing key with kid "no-such-kid"`},
		"fail/revoke-already-revoked":    {args: []string{"keys", "revoke", "--yes", "--", revoked.KID}, code: exitFailure, msg: "already revoked"},
		"fail/revoke-without-yes-no-tty": {args: []string{"keys", "revoke", "--", active.KID}, code: exitUsage, msg: "pass --yes"},
		"fail/revoke-no-kid":             {args: []string{"keys", "revoke", "--yes"}, code: exitUsage, msg: "accepts 1 arg"},
		"fail/kek-wrong-length":          {env: with(envKEK, short), args: []string{"keys", "rotate", "--force"}, code: exitUsage, msg: "must decode to 32 bytes, got 16"},
		"fail/kek-missing":               {env: with(envKEK, ""), args: []string{"keys", "revoke", "--yes", "--", active.KID}, code: exitUsage, msg: envKEK},
		"fail/kek-wrong":                 {env: with(envKEK, otherKEK), args: []string{"keys", "rotate", "--force"}, code: exitFailure, msg: "could not be decrypted"},
		"fail/revoke-active-wrong-kek":   {env: with(envKEK, otherKEK), args: []string{"keys", "revoke", "--yes", "--", active.KID}, code: exitFailure, msg: "could not be decrypted"},
		"fail/rotate-next-too-young":     {args: []string{"keys", "rotate", "--alg", "ES256"}, code: exitFailure, msg: "may sign from"},
		"fail/rotate-unknown-alg":        {args: []string{"keys", "rotate", "--alg", "HS256"}, code: exitUsage, msg: `"HS256" is not one of`},
		"fail/rotate-bad-cache-lifetime": {args: []string{"keys", "rotate", "--jwks-cache-lifetime", "0s"}, code: exitUsage, msg: "--jwks-cache-lifespan must be positive"},
		"fail/rotate-blank-actor":        {args: []string{"keys", "rotate", "--actor", " "}, code: exitUsage, msg: "--actor"},
		"fail/rewrap-kek-file-malformed": {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", file("malformed", "this is not a key!\n")}, code: exitUsage, msg: "not hex or base64"},
		"fail/rewrap-kek-file-short":     {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", file("short", short)}, code: exitUsage, msg: "got 16"},
		"fail/rewrap-kek-file-empty":     {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", file("empty", "")}, code: exitUsage, msg: "empty"},
		"fail/rewrap-kek-file-huge":      {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", file("huge", strings.Repeat("A", 4096))}, code: exitUsage, msg: "longer than"},
		"fail/rewrap-kek-file-missing":   {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", filepath.Join(dir, "nope")}, code: exitUsage, msg: "no such file"},
		"fail/rewrap-no-kek-file-flag":   {args: []string{"keys", "rewrap", "--yes"}, code: exitUsage, msg: `required flag(s) "new-kek-file"`},
		"fail/rewrap-same-kek":           {args: []string{"keys", "rewrap", "--yes", "--new-kek-file", file("same", e[envKEK])}, code: exitUsage, msg: "is the old one"},
		"fail/rewrap-wrong-old-kek":      {env: with(envKEK, otherKEK), args: []string{"keys", "rewrap", "--yes", "--new-kek-file", goodFile}, code: exitFailure, msg: "could not be decrypted"},
		"fail/rewrap-old-kek-wrong-len":  {env: with(envKEK, short), args: []string{"keys", "rewrap", "--yes", "--new-kek-file", goodFile}, code: exitUsage, msg: "got 16"},
		"fail/rewrap-stdin-without-yes":  {stdin: goodNew, args: []string{"keys", "rewrap", "--new-kek-file", "-"}, code: exitUsage, msg: "pass --yes"},
		"fail/rewrap-without-yes-no-tty": {args: []string{"keys", "rewrap", "--new-kek-file", goodFile}, code: exitUsage, msg: "pass --yes"},
		"fail/list-extra-argument":       {args: []string{"keys", "list", "x"}, code: exitUsage, msg: `unknown command "x"`},
		"fail/unknown-subcommand":        {args: []string{"keys", "destroy"}, code: exitUsage, msg: `unknown command "destroy"`},
		"fail/no-database":               {env: with(envDatabaseURL, ""), args: []string{"keys", "list"}, code: exitUsage, msg: "no database configured"},
		"fail/list-bad-output-format":    {args: []string{"keys", "list", "-o", "yaml"}, code: exitUsage, msg: `must be "text" or "json"`},
		"fail/rotate-bad-token-lifetime": {args: []string{"keys", "rotate", "--max-token-lifetime", "-1m"}, code: exitUsage, msg: "--max-token-lifespan must be positive"},
		"fail/revoke-unknown-flag":       {args: []string{"keys", "revoke", "--new-kek-file", "x", "--", active.KID}, code: exitUsage, msg: "unknown flag"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			en := tc.env
			if en == nil {
				en = e
			}
			r := run(t, en, tc.stdin, tc.args...)
			wantFail(t, r, tc.code, tc.msg)
			keysUnchanged(t, store, before)
			noKeyMaterial(t, r.output(), before)
			for _, k := range []string{e[envKEK], otherKEK, goodNew, short} {
				if strings.Contains(r.output(), k) {
					t.Fatal("a KEK was printed")
				}
			}
		})
	}
}

func TestServeKeyFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/rotation-interval-shorter-than-publish-lead": {[]string{"--key-rotation-interval", "30s"}, "at least 1m5s"},
		"fail/zero-jwks-cache-lifetime":                    {[]string{"--jwks-cache-lifetime", "0s"}, "--jwks-cache-lifespan must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, env{}, "", append([]string{"serve", "--dev", "--listen", "127.0.0.1:0"}, tc.args...)...)
			wantFail(t, r, exitUsage, tc.msg)
		})
	}
}
