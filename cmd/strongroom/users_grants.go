package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
)

func newUsersGrantsCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := newGroupCmd("grants", "List and revoke what a user granted to clients",
		`  strongroom users grants list alice
  strongroom users grants revoke alice 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --yes
  strongroom users grants list alice --endpoint https://auth.internal:8081 --token-file admin.token`,
		newUsersGrantsListCmd(a, rf),
		newUsersGrantsRevokeCmd(a, rf),
	)
	addRemoteFlags(cmd, rf)
	return cmd
}

// grantView is a remembered consent as listed.
type grantView = authz.GrantInfo

func newUsersGrantsListCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list ID|USERNAME",
		Short: "List the clients a user consented to, with the scopes",
		Long: `List the user's remembered consents: for each client, the scopes the user
agreed to. First-party clients (--first-party) skip consent and are not
listed, though they may hold tokens (revoke them with grants revoke).`,
		Example: `  strongroom users grants list alice
  strongroom users grants list alice -o json`,
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
		views, err := b.ListGrants(ctx, args[0])
		if err != nil {
			return err
		}
		if *output == formatJSON {
			return writeJSON(a.out, views)
		}
		tw := newTable(a.out)
		fmt.Fprintln(tw, "CLIENT\tNAME\tSCOPES\tGRANTED")
		for _, v := range views {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ClientID, orDash(v.ClientName), orDash(strings.Join(v.Scopes, " ")), formatTime(v.GrantedAt))
		}
		return tw.Flush()
	}
	return cmd
}

func newUsersGrantsRevokeCmd(a *app, rf *remoteFlags) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke ID|USERNAME CLIENT_ID",
		Short: "Revoke a user's grant to a client and the tokens it holds",
		Long: `Forget the user's consent to the client and revoke every authorization
code, access token and refresh token the client holds for the user. The
client's next authorization request for the user asks for consent again.`,
		Example: `  strongroom users grants revoke alice 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f
  strongroom users grants revoke alice 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --yes`,
		Args: cobra.ExactArgs(2),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
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
		clientID := args[1]
		if err := a.confirm(yes, fmt.Sprintf("Revoke the grant of user %s to client %s and its tokens?", u.Username, clientID)); err != nil {
			return err
		}
		n, err := b.RevokeGrant(ctx, u.ID, clientID)
		if errors.Is(err, authz.ErrGrantNotFound) {
			return fmt.Errorf("user %s has no grant to client %q", u.Username, clientID)
		}
		if err != nil {
			return fmt.Errorf("revoke grant: %w", err)
		}
		fmt.Fprintf(a.out, "Revoked the grant of user %s to client %s (%d tokens revoked).\n", u.Username, clientID, n)
		return nil
	}
	return cmd
}
