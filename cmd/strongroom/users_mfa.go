package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

func newUsersSetPasswordCmd(a *app) *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "set-password ID|USERNAME --password-stdin",
		Short: "Set an end user's password",
		Long: fmt.Sprintf(`Replace an end user's password. The password is read from standard input
(one trailing newline is removed); it must have at least %d characters and
must not be on the list of common passwords. On a terminal it is asked for
without echo, twice. The user is signed out everywhere in the same
transaction: browser sessions end (clients with a back-channel logout URI are
told), and every authorization code, access token and refresh token issued
for them is revoked.`, password.MinLength),
		Example: `  printf '%s\n' "$PASSWORD" | strongroom users set-password alice --password-stdin`,
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input (required)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !passwordStdin {
			return usageErrorf("--password-stdin is required: the password is read from standard input, never from an argument")
		}
		return a.withUser(cmd, args[0], func(ctx context.Context, creds *authzadmin.CredentialAdmin, u *storage.User) error {
			password, err := a.readPassword()
			if err != nil {
				return err
			}
			if err := creds.SetPassword(ctx, a.operator(), u, password); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Password of %s (%s) changed.\n", u.Username, u.ID)
			return nil
		})
	}
	return cmd
}

func newUsersUnlockCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unlock ID|USERNAME",
		Short: "Lift an end user's lock after failed sign-in attempts",
		Long: `Lift the temporary lock that failed sign-in attempts put on an account, and
clear its failure count. Locks also expire by themselves (15 minutes).`,
		Example: `  strongroom users unlock alice`,
		Args:    cobra.ExactArgs(1),
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withUser(cmd, args[0], func(ctx context.Context, creds *authzadmin.CredentialAdmin, u *storage.User) error {
			had, err := creds.Unlock(ctx, a.operator(), u)
			if err != nil {
				return err
			}
			if !had {
				fmt.Fprintf(a.out, "%s (%s) had no failed attempts or lock.\n", u.Username, u.ID)
				return nil
			}
			fmt.Fprintf(a.out, "Unlocked %s (%s).\n", u.Username, u.ID)
			return nil
		})
	}
	return cmd
}

func newUsersRequireMFACmd(a *app) *cobra.Command {
	var off bool
	cmd := &cobra.Command{
		Use:   "require-mfa ID|USERNAME",
		Short: "Require a second factor at every sign-in of an end user",
		Long: `Require a second factor (TOTP or passkey) at every sign-in of the user. A user
without one is led through setting one up at the next sign-in. --off
returns to the default (a second factor only when the client or the
request requires it, or when the user has one).`,
		Example: `  strongroom users require-mfa alice
  strongroom users require-mfa alice --off`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&off, "off", false, "stop requiring a second factor")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withUser(cmd, args[0], func(ctx context.Context, creds *authzadmin.CredentialAdmin, u *storage.User) error {
			if err := creds.SetRequireMFA(ctx, a.operator(), u, !off); err != nil {
				return err
			}
			state := "now requires"
			if off {
				state = "no longer requires"
			}
			fmt.Fprintf(a.out, "%s (%s) %s a second factor.\n", u.Username, u.ID, state)
			return nil
		})
	}
	return cmd
}

func newUsersResetMFACmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset-mfa ID|USERNAME",
		Short: "Remove an end user's second factors (lost device)",
		Long: `Remove the user's authenticator app, passkeys and recovery codes. If a second
factor is required, the user sets up a new one at the next sign-in. The user
is signed out everywhere in the same transaction: browser sessions end
(clients with a back-channel logout URI are told), and every authorization
code, access token and refresh token issued for them is revoked.`,
		Example: `  strongroom users reset-mfa alice --yes`,
		Args:    cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		return a.withUser(cmd, args[0], func(ctx context.Context, creds *authzadmin.CredentialAdmin, u *storage.User) error {
			if err := a.confirm(yes, fmt.Sprintf("Remove every second factor of %s (%s)?", u.Username, u.ID)); err != nil {
				return err
			}
			if err := creds.ResetMFA(ctx, a.operator(), u); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Removed the second factors of %s (%s).\n", u.Username, u.ID)
			return nil
		})
	}
	return cmd
}

// withUser opens the store, finds the user named ref (id or username) and
// runs fn with them and the credential service over the store; the store is
// closed when fn returns.
func (a *app) withUser(cmd *cobra.Command, ref string, fn func(ctx context.Context, creds *authzadmin.CredentialAdmin, u *storage.User) error) error {
	store, closeStore, err := a.openStore(cmd.Context())
	if err != nil {
		return err
	}
	defer closeStore()
	u, err := findUser(cmd, store, ref)
	if err != nil {
		return err
	}
	return fn(cmd.Context(), server.NewAdminServices(store, server.AdminServicesOptions{}).Credentials, u)
}
