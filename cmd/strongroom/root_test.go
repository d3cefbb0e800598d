package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	a := &app{getenv: func(string) string { return "" }}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%q has no Short", c.CommandPath())
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		r := run(t, env{}, "", args...)
		if r.code != 0 || !strings.Contains(r.out, "Examples:") {
			t.Errorf("strongroom %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.out, r.errOut)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(a))
}

func TestUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/unknown-command":     {[]string{"bogus"}, `unknown command "bogus"`},
		"fail/unknown-subcommand":  {[]string{"clients", "bogus"}, `unknown command "bogus"`},
		"fail/unknown-flag":        {[]string{"clients", "list", "--bogus"}, "unknown flag: --bogus"},
		"fail/missing-argument":    {[]string{"clients", "get"}, "accepts 1 arg(s), received 0"},
		"fail/extra-argument":      {[]string{"users", "list", "x"}, `unknown command "x"`},
		"fail/bad-output-format":   {[]string{"clients", "list", "-o", "yaml"}, `must be "text" or "json"`},
		"fail/missing-required":    {[]string{"users", "create"}, `required flag(s) "username" not set`},
		"fail/missing-database":    {[]string{"clients", "list"}, "set DATABASE_URL or pass --database-url"},
		"fail/delete-without-tty":  {[]string{"clients", "delete", "x"}, "pass --yes"},
		"fail/migrate-no-database": {[]string{"migrate", "status"}, "set DATABASE_URL or pass --database-url"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, env{}, "", tc.args...)
			wantFail(t, r, exitUsage, tc.msg)
			if !strings.Contains(r.errOut, "--help' for usage.") {
				t.Errorf("stderr %q lacks the usage hint", r.errOut)
			}
		})
	}
}

func TestExecuteRecoversPanics(t *testing.T) {
	var errOut bytes.Buffer
	root := &cobra.Command{Use: "strongroom", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error { panic("boom") }})
	markRunErrors(root)
	code := execute(t.Context(), root, []string{"boom"}, &errOut)
	if code != exitFailure || errOut.String() != "strongroom: internal error: boom\n" {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&runError{err: errors.New("x")}, exitFailure},
		{&runError{err: usageErrorf("x")}, exitUsage},
		{usageErrorf("x"), exitUsage},
		{errors.New("cobra's own"), exitUsage},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestPrintErrorPrefixesEveryLine(t *testing.T) {
	var b bytes.Buffer
	printError(&b, errors.Join(errors.New("one"), errors.New("two")))
	if got, want := b.String(), "strongroom: one\nstrongroom: two\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAskConfirmation(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes ": true, "n\n": false, "": false, "yep\n": false} {
		var prompt bytes.Buffer
		got, err := askConfirmation(strings.NewReader(in), &prompt, "Delete?")
		if err != nil || got != want {
			t.Errorf("askConfirmation(%q) = %v, %v; want %v", in, got, err, want)
		}
		if prompt.String() != "Delete? [y/N]: " {
			t.Errorf("prompt %q", prompt.String())
		}
	}
}
