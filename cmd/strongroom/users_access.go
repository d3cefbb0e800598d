package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
)

// What a user is signed in with: the grants they gave clients (`users
// grants`) and their browser sessions (`users sessions`).

// grantView is a remembered consent as listed.
type grantView = authz.GrantInfo

func newUsersGrantsListCmd(a *app, rf *remoteFlags) *cobra.Command {
	return newUserListCmd(a, rf, userListing[grantView]{
		short: "List the clients a user consented to, with the scopes",
		long: `List the user's remembered consents: for each client, the scopes the user
agreed to, and the RFC 9396 authorization details (a payment) approved
last. First-party clients (--first-party) skip consent and are not
listed, though they may hold tokens (revoke them with grants revoke).`,
		example: `  strongroom users grants list alice
  strongroom users grants list alice -o json`,
		list:   usersBackend.ListGrants,
		header: []string{"CLIENT", "NAME", "SCOPES", "AUTHORIZATION DETAILS", "GRANTED"},
		cells: func(v grantView) []string {
			return []string{v.ClientID, orDash(v.ClientName), orDash(strings.Join(v.Scopes, " ")),
				orDash(string(v.AuthorizationDetails)), formatTime(v.GrantedAt)}
		},
	})
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
		clientID := args[1]
		return a.changeUser(ctx, rf, yes, args[0], func(u *userView) string {
			return fmt.Sprintf("Revoke the grant of user %s to client %s and its tokens?", u.Username, clientID)
		}, func(b usersBackend, u *userView) error {
			n, err := b.RevokeGrant(ctx, u.ID, clientID)
			if errors.Is(err, authz.ErrGrantNotFound) {
				return fmt.Errorf("user %s has no grant to client %q", u.Username, clientID)
			}
			if err != nil {
				return fmt.Errorf("revoke grant: %w", err)
			}
			fmt.Fprintf(a.out, "Revoked the grant of user %s to client %s (%d tokens revoked).\n", u.Username, clientID, n)
			return nil
		})
	}
	return cmd
}

// sessionView is a browser session as listed (the admin API's form). The id
// is the stored one (a hash of the cookie): it names the session without
// granting it.
type sessionView = admin.Session

func newUsersSessionsListCmd(a *app, rf *remoteFlags) *cobra.Command {
	return newUserListCmd(a, rf, userListing[sessionView]{
		short: "List a user's live browser sessions and the clients each logged in to",
		long: `List the user's live browser sessions, newest first. A session also ends
when it has been idle longer than the server's idle timeout; that is
checked when the browser comes back, so an idle session may still be listed.`,
		example: `  strongroom users sessions list alice
  strongroom users sessions list alice -o json`,
		list:   usersBackend.ListSessions,
		header: []string{"ID", "LOGGED IN", "LAST SEEN", "EXPIRES", "AMR", "CLIENTS"},
		cells: func(v sessionView) []string {
			return []string{v.ID, formatTime(v.AuthTime), formatTime(v.LastSeenAt),
				formatTime(v.ExpiresAt), orDash(strings.Join(v.AMR, " ")), orDash(strings.Join(v.Clients, " "))}
		},
	})
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
		if all {
			return a.changeUser(ctx, rf, yes, args[0], func(u *userView) string {
				return fmt.Sprintf("End every session of user %s?", u.Username)
			}, func(b usersBackend, u *userView) error {
				n, err := b.EndSessions(ctx, u.ID)
				if err != nil {
					return fmt.Errorf("end sessions: %w", err)
				}
				fmt.Fprintf(a.out, "Ended %d sessions of user %s.\n", n, u.Username)
				return nil
			})
		}
		id := args[1]
		return a.changeUser(ctx, rf, yes, args[0], func(u *userView) string {
			return fmt.Sprintf("End session %s of user %s?", id, u.Username)
		}, func(b usersBackend, u *userView) error {
			err := b.EndSession(ctx, u.ID, id)
			if errors.Is(err, authz.ErrSessionNotFound) {
				return fmt.Errorf("user %s has no live session %q", u.Username, id)
			}
			if err != nil {
				return fmt.Errorf("end session: %w", err)
			}
			fmt.Fprintf(a.out, "Ended session %s of user %s.\n", id, u.Username)
			return nil
		})
	}
	return cmd
}
