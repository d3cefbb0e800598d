package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
)

func newUsersGrantsCmd(a *app) *cobra.Command {
	return newGroupCmd("grants", "List and revoke what a user granted to clients",
		`  strongroom users grants list alice
  strongroom users grants revoke alice 3q2-7wAAAAAAAAAAAAAAAA --yes`,
		newUsersGrantsListCmd(a),
		newUsersGrantsRevokeCmd(a),
	)
}

// grantView is a remembered consent as listed.
type grantView struct {
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name,omitempty"`
	Scopes     []string  `json:"scopes"`
	GrantedAt  time.Time `json:"granted_at"`
}

func newUsersGrantsListCmd(a *app) *cobra.Command {
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
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		u, err := findUser(cmd, store, args[0])
		if err != nil {
			return err
		}
		grants, err := (&authz.SessionManager{Store: store, Now: time.Now}).ListGrants(ctx, u.ID)
		if err != nil {
			return err
		}
		views := make([]grantView, len(grants))
		for i, g := range grants {
			views[i] = grantView{ClientID: g.ClientID, Scopes: nonNil(g.Scopes), GrantedAt: g.GrantedAt.UTC()}
			if c, err := store.GetClient(ctx, g.ClientID); err == nil {
				views[i].ClientName = c.Name
			}
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

func newUsersGrantsRevokeCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke ID|USERNAME CLIENT_ID",
		Short: "Revoke a user's grant to a client and the tokens it holds",
		Long: `Forget the user's consent to the client and revoke every authorization
code, access token and refresh token the client holds for the user. The
client's next authorization request for the user asks for consent again.`,
		Example: `  strongroom users grants revoke alice 3q2-7wAAAAAAAAAAAAAAAA
  strongroom users grants revoke alice 3q2-7wAAAAAAAAAAAAAAAA --yes`,
		Args: cobra.ExactArgs(2),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		u, err := findUser(cmd, store, args[0])
		if err != nil {
			return err
		}
		clientID := args[1]
		if err := a.confirm(yes, fmt.Sprintf("Revoke the grant of user %s to client %s and its tokens?", u.Username, clientID)); err != nil {
			return err
		}
		n, err := (&authz.SessionManager{Store: store, Now: time.Now}).RevokeGrant(ctx, u.ID, clientID, authz.ActorOperator)
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
