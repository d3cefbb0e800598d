package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
)

func newUsersSessionsCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := newGroupCmd("sessions", "List and end a user's browser sessions",
		`  strongroom users sessions list alice
  strongroom users sessions revoke alice 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --yes
  strongroom users sessions revoke alice --all --yes
  strongroom users sessions list alice --endpoint https://auth.internal:8081 --token-file admin.token`,
		newUsersSessionsListCmd(a, rf),
		newUsersSessionsRevokeCmd(a, rf),
	)
	addRemoteFlags(cmd, rf)
	return cmd
}

// sessionView is a browser session as listed (the admin API's form). The id
// is the stored one (a hash of the cookie): it names the session without
// granting it.
type sessionView = admin.Session

func newUsersSessionsListCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list ID|USERNAME",
		Short: "List a user's live browser sessions and the clients each logged in to",
		Long: `List the user's live browser sessions, newest first. A session also ends
when it has been idle longer than the server's idle timeout; that is
checked when the browser comes back, so an idle session may still be listed.`,
		Example: `  strongroom users sessions list alice
  strongroom users sessions list alice -o json`,
		Args: cobra.ExactArgs(1),
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		views, err := b.ListSessions(ctx, args[0])
		if err != nil {
			return err
		}
		if *output == formatJSON {
			return writeJSON(a.out, views)
		}
		tw := newTable(a.out)
		fmt.Fprintln(tw, "ID\tLOGGED IN\tLAST SEEN\tEXPIRES\tAMR\tCLIENTS")
		for _, v := range views {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, formatTime(v.AuthTime), formatTime(v.LastSeenAt),
				formatTime(v.ExpiresAt), orDash(strings.Join(v.AMR, " ")), orDash(strings.Join(v.Clients, " ")))
		}
		return tw.Flush()
	}
	return cmd
}

func newUsersSessionsRevokeCmd(a *app, rf *remoteFlags) *cobra.Command {
	var yes, all bool
	cmd := &cobra.Command{
		Use:   "revoke ID|USERNAME [SESSION_ID | --all]",
		Short: "End one or all of a user's browser sessions",
		Long: `End a browser session of the user (its id from sessions list), or every
one with --all. The browser must log in again, and each client the session
logged in to that registered a back-channel logout URI is sent a logout
token by the server (OpenID Connect Back-Channel Logout 1.0).`,
		Example: `  strongroom users sessions revoke alice 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  strongroom users sessions revoke alice --all --yes`,
		Args: cobra.RangeArgs(1, 2),
	}
	cmd.Flags().BoolVar(&all, "all", false, "end every session of the user")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		switch {
		case all && len(args) == 2:
			return usageErrorf("give a SESSION_ID or --all, not both")
		case !all && len(args) == 1:
			return usageErrorf("give a SESSION_ID (see `strongroom users sessions list`) or --all")
		}
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		u, err := b.GetUser(ctx, args[0])
		if err != nil {
			return err
		}
		if all {
			if err := a.confirm(yes, fmt.Sprintf("End every session of user %s?", u.Username)); err != nil {
				return err
			}
			n, err := b.EndSessions(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			fmt.Fprintf(a.out, "Ended %d sessions of user %s.\n", n, u.Username)
			return nil
		}
		id := args[1]
		if err := a.confirm(yes, fmt.Sprintf("End session %s of user %s?", id, u.Username)); err != nil {
			return err
		}
		err = b.EndSession(ctx, u.ID, id)
		if errors.Is(err, authz.ErrSessionNotFound) {
			return fmt.Errorf("user %s has no live session %q", u.Username, id)
		}
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		fmt.Fprintf(a.out, "Ended session %s of user %s.\n", id, u.Username)
		return nil
	}
	return cmd
}
