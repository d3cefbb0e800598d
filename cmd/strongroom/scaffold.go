package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

// printList writes rows as JSON with -o json, else as a table: the header's
// columns, then the cells of each row.
func printList[T any](w io.Writer, format outputFormat, rows []T, header []string, cells func(T) []string) error {
	if format == formatJSON {
		return writeJSON(w, rows)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	return tw.Flush()
}

// listWith opens a backend, lists with it and closes it: the scaffolding of
// every list command.
func listWith[B interface{ Close() }, T any](open func() (B, error), list func(B) ([]T, error)) (rows []T, err error) {
	b, err := open()
	err = use(b, err, func(b B) error {
		rows, err = list(b)
		return err
	})
	return rows, err
}

// changeUser runs a change of one user after confirmation: it refuses
// early when no confirmation can be asked (without --yes off a terminal),
// opens the users backend, looks the user up (so an unknown one fails
// before any prompt), asks the question built from it, and runs change.
func (a *app) changeUser(ctx context.Context, rf *remoteFlags, yes bool, ref string,
	question func(u *authzadmin.UserInfo) string, change func(b usersBackend, u *authzadmin.UserInfo) error,
) error {
	if err := a.checkConfirmable(yes); err != nil {
		return err
	}
	b, err := a.openUsers(ctx, rf)
	return use(b, err, func(b usersBackend) error {
		u, err := b.GetUser(ctx, ref)
		if err != nil {
			return err
		}
		if err := a.confirm(yes, question(u)); err != nil {
			return err
		}
		return change(b, u)
	})
}

// changeClient runs a change of one client, as changeUser does for users.
// With a nil question the change runs without confirmation (and without
// looking the client up first).
func (a *app) changeClient(ctx context.Context, rf *remoteFlags, yes bool, id string,
	question func(c *registration.ClientInfo) string, change func(b adminBackend) error,
) error {
	if question != nil {
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
	}
	return a.withClients(ctx, rf, false, func(b adminBackend) error {
		if question != nil {
			if _, err := a.confirmClient(ctx, b, yes, id, question); err != nil {
				return err
			}
		}
		return change(b)
	})
}

// newRemoteGroupCmd is a group of commands that act on the database or,
// with --endpoint, on an admin API: the group declares the remote flags
// and each subcommand is built over them.
func newRemoteGroupCmd(a *app, use, short, example string, subs ...func(*app, *remoteFlags) *cobra.Command) *cobra.Command {
	return newRemoteGroupCmdWith(a, &remoteFlags{}, use, short, example, subs...)
}

// newRemoteGroupCmdWith is newRemoteGroupCmd over the caller's rf (which
// then adds flags of its own to the group).
func newRemoteGroupCmdWith(a *app, rf *remoteFlags, use, short, example string, subs ...func(*app, *remoteFlags) *cobra.Command) *cobra.Command {
	cmds := make([]*cobra.Command, len(subs))
	for i, sub := range subs {
		cmds[i] = sub(a, rf)
	}
	cmd := newGroupCmd(use, short, example, cmds...)
	addRemoteFlags(cmd, rf)
	return cmd
}

// userListing describes a `users <group> list ID|USERNAME` command: its
// help, what it lists for the user, and the table it prints.
type userListing[T any] struct {
	short, long, example string
	list                 func(b usersBackend, ctx context.Context, userRef string) ([]T, error)
	header               []string
	cells                func(T) []string
}

// newUserListCmd builds the list command l describes.
func newUserListCmd[T any](a *app, rf *remoteFlags, l userListing[T]) *cobra.Command {
	cmd := &cobra.Command{Use: "list ID|USERNAME", Short: l.short, Long: l.long, Example: l.example, Args: cobra.ExactArgs(1)}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		rows, err := listWith(func() (usersBackend, error) { return a.openUsers(ctx, rf) },
			func(b usersBackend) ([]T, error) { return l.list(b, ctx, args[0]) })
		if err != nil {
			return err
		}
		return printList(a.out, *output, rows, l.header, l.cells)
	}
	return cmd
}

// use runs fn on a backend just opened (b and err as its opener returned
// them) and closes it; an error to open is returned as it is.
func use[B interface{ Close() }](b B, err error, fn func(B) error) error {
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(b)
}

// withClients opens the clients backend (needSecret: see openBackend), runs
// fn on it and closes it.
func (a *app) withClients(ctx context.Context, rf *remoteFlags, needSecret bool, fn func(b adminBackend) error) error {
	b, err := a.openBackend(ctx, rf, needSecret)
	return use(b, err, fn)
}

// withKeys opens the keys backend (needKEK: see openKeys), runs fn on it
// and closes it.
func (a *app) withKeys(ctx context.Context, rf *remoteFlags, kf *keysFlags, needKEK bool, fn func(b keysBackend) error) error {
	b, err := a.openKeys(ctx, rf, kf, needKEK)
	return use(b, err, fn)
}

// printResult writes v as JSON with -o json, else runs text.
func printResult(w io.Writer, format outputFormat, v any, text func() error) error {
	if format == formatJSON {
		return writeJSON(w, v)
	}
	return text()
}
