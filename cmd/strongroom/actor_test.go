package main

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// TestCLIActorRecordedIsFlagOrOSUserNeverUnknown: every CLI change is
// recorded with one actor rule: --actor (a persistent root flag, on clients
// and users commands alike), else $USER, else $LOGNAME, else the process's
// account, else operator:<uid>; never operator:unknown; source "cli". The
// audit list filter is --by (its old name --actor still filters there).
func TestCLIActorRecordedIsFlagOrOSUserNeverUnknown(t *testing.T) {
	e := newEnv(t)
	mustRun(t, e, "", "migrate", "up")
	withUser := maps.Clone(e)
	withUser["USER"] = "bob"

	mustRun(t, e, "", append([]string{"--actor", "alice"}, webApp...)...)
	mustRun(t, withUser, "secret-password-1\n", "users", "create", "--username", "carol", "--email", "carol@example.test", "--password-stdin")
	mustRun(t, e, "secret-password-1\n", "users", "create", "--actor", "dave", "--username", "erin", "--email", "erin@example.test", "--password-stdin")

	list := func(args ...string) []authzadmin.AuditEvent {
		t.Helper()
		r := mustRun(t, e, "", append([]string{"audit", "list", "-o", "json"}, args...)...)
		var evs []authzadmin.AuditEvent
		if err := json.Unmarshal([]byte(r.out), &evs); err != nil {
			t.Fatalf("audit list: %v\n%s", err, r.out)
		}
		return evs
	}
	actors := map[string]string{}
	for _, ev := range list() {
		if strings.Contains(ev.Actor, "unknown") {
			t.Errorf("event %s recorded actor %q", ev.Action, ev.Actor)
		}
		if ev.Details["source"] != "" && ev.Details["source"] != authzadmin.SourceCLI {
			t.Errorf("event %s by %s: source %q, want cli", ev.Action, ev.Actor, ev.Details["source"])
		}
		actors[ev.Actor] = ev.Details["source"]
	}
	for _, want := range []string{"operator:alice", "operator:bob", "operator:dave"} {
		if src, ok := actors[want]; !ok || src != authzadmin.SourceCLI {
			t.Errorf("no event by %s with source cli: %v", want, actors)
		}
	}
	for _, flag := range []string{"--by", "--actor"} {
		evs := list(flag, "operator:bob")
		if len(evs) == 0 {
			t.Errorf("audit list %s operator:bob: no event", flag)
		}
		for _, ev := range evs {
			if ev.Actor != "operator:bob" {
				t.Errorf("audit list %s operator:bob listed %s's event", flag, ev.Actor)
			}
		}
	}
}

// TestCLIActorFallsBackToUIDNotUnknown: without --actor, $USER, $LOGNAME
// or an account, the actor is operator:<uid>.
func TestCLIActorFallsBackToUIDNotUnknown(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }, currentUser: func() (*user.User, error) { return nil, errors.New("no passwd entry") }}
	if got, want := a.operator(), (authzadmin.Actor{Name: "operator:" + strconv.Itoa(os.Getuid()), Source: "cli"}); got != want {
		t.Errorf("operator() = %+v, want %+v", got, want)
	}
	a.currentUser = func() (*user.User, error) { return &user.User{Username: "svc"}, nil }
	if got := a.operator().Name; got != "operator:svc" {
		t.Errorf("with an account: %q", got)
	}
	a.getenv = func(k string) string { return map[string]string{"LOGNAME": "lg"}[k] }
	if got := a.operator().Name; got != "operator:lg" {
		t.Errorf("with $LOGNAME: %q", got)
	}
	a.actor = "operator:zed"
	if got := a.operator().Name; got != "operator:zed" {
		t.Errorf("--actor operator:zed: %q", got)
	}
}

// TestCLIActorRefusedBlankAndInRemoteMode: a blank --actor is a usage error
// on any command; with --endpoint it is refused (the API names the token's
// client).
func TestCLIActorRefusedBlankAndInRemoteMode(t *testing.T) {
	wantFail(t, run(t, env{}, "", "clients", "list", "--actor", " "), exitUsage, "--actor must not be blank")
	wantFail(t, run(t, env{}, "", "users", "list", "--actor", "x", "--endpoint", "http://127.0.0.1:1", "--token-file", "/nonexistent"),
		exitUsage, "--actor is for local mode")
}
