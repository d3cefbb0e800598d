package main

import (
	"cmp"
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// One audit-actor rule for every command that changes something on the
// database: the persistent root flag --actor names the operator; without
// it, the OS user ($USER, then $LOGNAME, then the account of the process);
// failing all three, operator:<uid>. Never "operator:unknown". The source
// is "cli". In remote mode (--endpoint) the admin API records the client
// its token was issued to (source "admin-api"), so --actor is refused there.

// actorFlag is --actor: a name that must not be blank.
type actorFlag struct{ name *string }

func (f actorFlag) String() string { return *f.name }
func (f actorFlag) Type() string   { return "name" }
func (f actorFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("--actor must not be blank")
	}
	*f.name = strings.TrimSpace(v)
	return nil
}

// addActorFlag adds the persistent --actor flag to root.
func addActorFlag(root *cobra.Command, a *app) {
	root.PersistentFlags().Var(actorFlag{&a.actor}, "actor",
		"who to record in the audit trail as operator:<name> (default: the OS user; local mode only)")
}

// operator is the audit actor of a command run on the database.
func (a *app) operator() authzadmin.Actor {
	name := strings.TrimPrefix(a.actor, "operator:")
	if name == "" {
		name = cmp.Or(a.getenv("USER"), a.getenv("LOGNAME"))
	}
	if name == "" {
		lookup := a.currentUser
		if lookup == nil {
			lookup = user.Current
		}
		if u, err := lookup(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	return authzadmin.Actor{Name: "operator:" + name, Source: authzadmin.SourceCLI}
}

// checkActorMode refuses --actor in remote mode, where the admin API names
// the token's client.
func (a *app) checkActorMode(rf *remoteFlags) error {
	if rf.endpoint != "" && a.actor != "" {
		return usageErrorf("--actor is for local mode: the admin API records the client its token was issued to")
	}
	return nil
}
