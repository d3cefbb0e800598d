package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/buildinfo"
)

// Exit codes of the strongroom command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error in how the command was invoked (a bad flag, a
// missing argument, flags that contradict each other): exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// runError marks an error returned by a command's RunE. Errors that cobra
// itself returns (unknown command or flag, wrong argument count, missing
// required flag) carry no mark and are usage errors.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// newRootCmd builds the whole command tree on a.
func newRootCmd(a *app) *cobra.Command {
	info := buildinfo.Read()
	root := &cobra.Command{
		Use:   "strongroom",
		Short: "Strongroom: an OAuth 2.0 and OpenID Connect authorization server",
		Long: `Strongroom is an OAuth 2.0 and OpenID Connect authorization server.

Environment:
  DATABASE_URL        PostgreSQL URL (or pass --database-url)
  STRONGROOM_SECRET   system secret, at least 32 bytes, base64 or hex encoded;
                      it keys the hash of client secrets, so the server and
                      this tool must share it
  STRONGROOM_CONFIG   YAML file of serve's settings (or pass --config); every
                      serve flag is also read from STRONGROOM_<FLAG_NAME>
                      (strongroom config show prints what serve would use)`,
		Example: `  export DATABASE_URL=postgres://strongroom@db.internal/strongroom
  export STRONGROOM_SECRET=$(openssl rand -base64 32)
  strongroom migrate up
  strongroom clients create --name "My app" --grant-type authorization_code \
      --redirect-uri https://app.example.com/callback --scope "openid profile" \
      --auth-method client_secret_basic
  strongroom serve`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		Version:           info.Version,
	}
	root.SetVersionTemplate(versionTemplate(info))
	root.SetIn(a.in)
	root.SetOut(a.out)
	root.SetErr(a.errOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.PersistentFlags().StringVar(&a.databaseURL, "database-url", "",
		"PostgreSQL URL (default $DATABASE_URL; prefer the variable, flags show in the process list)")

	addActorFlag(root, a)

	root.AddCommand(
		newServeCmd(a),
		newMigrateCmd(a),
		newClientsCmd(a),
		newUsersCmd(a),
		newKeysCmd(a),
		newAuthorizationTypesCmd(a),
		newAuditCmd(a),
		newCompletionCmd(),
		newVersionCmd(a),
		newConfigCmd(a),
		newHealthcheckCmd(a),
	)
	markRunErrors(root)
	return root
}

// markRunErrors wraps the RunE of cmd and its descendants so that their
// errors are told apart from cobra's own usage errors.
func markRunErrors(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				return &runError{err: err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// newGroupCmd returns a command that only groups subcommands: run alone it
// prints its help; with an unknown subcommand it is a usage error.
func newGroupCmd(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}

// execute runs root with args and returns the exit code. Errors are
// printed to errOut as "strongroom: <message>", one line each; a panic is
// reported the same way, without a stack trace.
func execute(ctx context.Context, root *cobra.Command, args []string, errOut io.Writer) (code int) {
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)
	defer func() {
		if p := recover(); p != nil {
			printError(errOut, fmt.Errorf("internal error: %v", p))
			code = exitFailure
		}
	}()
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	printError(errOut, err)
	code = exitCode(err)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(errOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// exitCode classifies err: usage errors (marked, or returned by cobra
// itself) give 2, everything else 1.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var re *runError
	if errors.As(err, &re) {
		return exitFailure
	}
	return exitUsage
}

// printError writes what err tells the user (userLines), every line
// prefixed with "strongroom: ": a sentence and a hint, never a chain of
// wrapped errors where the error is one the CLI can explain.
func printError(w io.Writer, err error) {
	for _, line := range userLines(err) {
		fmt.Fprintf(w, "strongroom: %s\n", line)
	}
}
