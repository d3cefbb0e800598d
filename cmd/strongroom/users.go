package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
)

func newUsersCmd(a *app) *cobra.Command {
	return newGroupCmd("users", "Manage end users",
		`  printf '%s\n' "$PASSWORD" | strongroom users create --username alice --password-stdin
  strongroom users list
  strongroom users get alice
  strongroom users import users.jsonl
  strongroom users export > users.jsonl
  strongroom users delete alice --yes
  strongroom users unlock alice
  strongroom users list --endpoint https://auth.internal:8081 --token-file admin.token`,
		newUsersCreateCmd(a),
		newUsersListCmd(a),
		newUsersGetCmd(a),
		newUsersUpdateCmd(a),
		newUsersDeleteCmd(a),
		newUsersImportCmd(a),
		newUsersExportCmd(a),
		newUsersGrantsCmd(a), newUsersSessionsCmd(a),
		newUsersSetPasswordCmd(a),
		newUsersUnlockCmd(a),
		newUsersRequireMFACmd(a),
		newUsersResetMFACmd(a),
	)
}

// newUsersGrantsCmd is `users grants` (users_grants.go).
func newUsersGrantsCmd(a *app) *cobra.Command {
	return newRemoteGroupCmd(a, "grants", "List and revoke what a user granted to clients",
		`  strongroom users grants list alice
  strongroom users grants revoke alice 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --yes
  strongroom users grants list alice --endpoint https://auth.internal:8081 --token-file admin.token`,
		newUsersGrantsListCmd,
		newUsersGrantsRevokeCmd,
	)
}

// newUsersSessionsCmd is `users sessions` (users_sessions.go).
func newUsersSessionsCmd(a *app) *cobra.Command {
	return newRemoteGroupCmd(a, "sessions", "List and end a user's browser sessions",
		`  strongroom users sessions list alice
  strongroom users sessions revoke alice 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --yes
  strongroom users sessions revoke alice --all --yes
  strongroom users sessions list alice --endpoint https://auth.internal:8081 --token-file admin.token`,
		newUsersSessionsListCmd,
		newUsersSessionsRevokeCmd,
	)
}

// maxUsernameLen bounds usernames, in characters.
const maxUsernameLen = 64

// checkUsername requires 1–64 characters without whitespace or control
// characters. A UUID is refused: user ids are UUIDs, and `users delete`
// takes either.
func checkUsername(u string) error {
	switch n := len([]rune(u)); {
	case n == 0:
		return errors.New("--username must not be empty")
	case n > maxUsernameLen:
		return fmt.Errorf("--username must be at most %d characters", maxUsernameLen)
	case strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return errors.New("--username must not contain whitespace or control characters")
	}
	if _, err := uuid.Parse(u); err == nil {
		return errors.New("--username must not be a UUID (user ids are UUIDs)")
	}
	return nil
}

type userSpec struct {
	username, email, name, phone string
	passwordStdin                bool
}

// check validates the flags, reporting every problem at once.
func (s *userSpec) check() error {
	var errs []error
	if err := checkUsername(s.username); err != nil {
		errs = append(errs, err)
	}
	if s.email != "" {
		if addr, err := mail.ParseAddress(s.email); err != nil || addr.Address != s.email || addr.Name != "" {
			errs = append(errs, fmt.Errorf("--email %q is not an email address", s.email))
		}
	}
	if len([]rune(s.name)) > 200 || strings.ContainsFunc(s.name, unicode.IsControl) {
		errs = append(errs, errors.New("--name must be at most 200 characters without control characters"))
	}
	if err := authzadmin.CheckPhoneNumber(s.phone); err != nil {
		errs = append(errs, fmt.Errorf("--phone-number: %w", err))
	}
	if !s.passwordStdin {
		errs = append(errs, errors.New("--password-stdin is required: the password is read from standard input, never from an argument"))
	}
	if len(errs) > 0 {
		return &usageError{err: errors.Join(errs...)}
	}
	return nil
}

func newUsersCreateCmd(a *app) *cobra.Command {
	var s userSpec
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an end user",
		Long: fmt.Sprintf(`Create an end user who can log in at the server. The password is read from
standard input (one trailing newline is removed; at least %d characters) and
stored as an argon2id hash. On a terminal it is asked for without echo,
twice. The new user's id (a UUID, the OpenID Connect subject) is printed.`, password.MinLength),
		Example: `  printf '%s\n' "$PASSWORD" | strongroom users create --username alice \
      --email alice@example.com --name "Alice Liddell" --password-stdin
  strongroom users create --username bob --password-stdin -o json < bob.pass`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&s.username, "username", "", "login name: 1-64 characters, no whitespace (required)")
	f.StringVar(&s.email, "email", "", "email address")
	f.StringVar(&s.name, "name", "", "full name")
	f.StringVar(&s.phone, "phone-number", "", "phone number in E.164 form, e.g. +14155550100 (unverified)")
	f.BoolVar(&s.passwordStdin, "password-stdin", false, "read the password from standard input (required)")
	output := addOutputFlag(cmd)
	addRemoteFlags(cmd, rf)
	_ = cmd.MarkFlagRequired("username")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if err := s.check(); err != nil {
			return err
		}
		// Open the backend first, so that a missing or outdated database (or
		// a bad --endpoint) is reported before anyone types a password.
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		pw, err := a.readPassword()
		if err != nil {
			return err
		}
		if err := password.Validate(pw); err != nil {
			return err
		}
		u, err := b.CreateUser(ctx, authzadmin.UserSpec{Username: s.username, Email: s.email, Name: s.name, PhoneNumber: s.phone, Password: pw})
		if errors.Is(err, authzadmin.ErrConflict) {
			return fmt.Errorf("username %q is already taken", s.username)
		}
		if err != nil {
			return err
		}
		if *output == formatJSON {
			return writeJSON(a.out, struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			}{u.ID, u.Username})
		}
		fmt.Fprintln(a.out, u.ID)
		return nil
	}
	return cmd
}

// readPassword reads the password from standard input: without echo (and
// twice) on a terminal, else everything up to EOF minus one trailing
// newline. Errors never quote it.
func (a *app) readPassword() (string, error) {
	if f, ok := a.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.errOut, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.errOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(a.errOut, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.errOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if !bytes.Equal(p1, p2) {
			return "", errors.New("the passwords do not match")
		}
		return string(p1), nil
	}
	// Read a little more than the longest password allowed, so that an
	// overlong one is rejected by ValidatePassword rather than truncated.
	data, err := io.ReadAll(io.LimitReader(a.in, password.MaxLength+3))
	if err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	p := string(data)
	if strings.HasSuffix(p, "\n") {
		p = strings.TrimSuffix(strings.TrimSuffix(p, "\n"), "\r")
	}
	if p == "" {
		return "", errors.New("no password on standard input")
	}
	return p, nil
}

// userView is a user as listed; never the password hash.
type userView = authzadmin.UserInfo

func newUsersListCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List end users",
		Example: `  strongroom users list
  strongroom users list -o json
  strongroom users list --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		users, err := listWith(func() (usersBackend, error) { return a.openUsers(ctx, rf) },
			func(b usersBackend) ([]userView, error) { return b.ListUsers(ctx) })
		if err != nil {
			return err
		}
		return printList(a.out, *output, users, []string{"ID", "USERNAME", "EMAIL", "NAME", "CREATED"}, func(u userView) []string {
			return []string{u.ID, u.Username, orDash(u.Email), orDash(u.Name), formatTime(u.CreatedAt)}
		})
	}
	return cmd
}

func newUsersDeleteCmd(a *app) *cobra.Command {
	var yes bool
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "delete ID|USERNAME",
		Short: "Delete an end user and sign them out everywhere",
		Long: `Delete an end user, in one transaction with signing them out everywhere: their
browser sessions end (clients with a back-channel logout URI are told), and
every authorization code, access token and refresh token issued for them,
their consents, second factors and sign-ins in progress are deleted.`,
		Example: `  strongroom users delete alice
  strongroom users delete 0b6c1f0e-8f5d-4c52-9f39-2f0d5c1e7a10 --yes
  strongroom users delete alice --yes --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		return a.changeUser(ctx, rf, yes, args[0], func(u *userView) string {
			return fmt.Sprintf("Delete user %s (%s) with their sessions and consents?", u.Username, u.ID)
		}, func(b usersBackend, u *userView) error {
			if err := b.DeleteUser(ctx, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Deleted user %s (%s).\n", u.Username, u.ID)
			return nil
		})
	}
	return cmd
}

// findUser looks ref up as a user id (when it is a UUID), then as a
// username. Usernames cannot be UUIDs (users create refuses them), so the two
// never compete.
func findUser(cmd *cobra.Command, store storage.Users, ref string) (*storage.User, error) {
	ctx := cmd.Context()
	if _, err := uuid.Parse(ref); err == nil {
		u, err := store.GetUser(ctx, ref)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("get user: %w", err)
		}
	}
	u, err := store.GetUserByUsername(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("user %q not found", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}
