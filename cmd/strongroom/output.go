package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// outputFormat is the value of -o/--output: text (the default) or json.
type outputFormat string

const (
	formatText outputFormat = "text"
	formatJSON outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "format" }

func (o *outputFormat) Set(v string) error {
	switch f := outputFormat(v); f {
	case formatText, formatJSON:
		*o = f
		return nil
	}
	return errors.New(`must be "text" or "json"`)
}

// addOutputFlag declares -o/--output on cmd.
func addOutputFlag(cmd *cobra.Command) *outputFormat {
	o := formatText
	cmd.Flags().VarP(&o, "output", "o", `output format: "text" or "json"`)
	return &o
}

// writeJSON writes v as one line of JSON (HTML characters unescaped, so
// URLs stay readable).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newTable returns a writer that aligns tab-separated columns; Flush it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// orDash renders an empty value in a table as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yesNo renders a boolean in a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatTime renders a timestamp in a table (UTC, RFC 3339).
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// errAborted is returned when the user declines a confirmation prompt.
var errAborted = errors.New("aborted")

// checkConfirmable fails early, before any work, when a confirmation would
// be needed but cannot be asked: without a terminal, scripts must pass --yes.
func (a *app) checkConfirmable(yes bool) error {
	if yes || isTerminal(a.in) {
		return nil
	}
	return usageErrorf("standard input is not a terminal, cannot ask for confirmation: pass --yes")
}

// confirm asks the user to confirm a destructive action unless yes is set.
func (a *app) confirm(yes bool, prompt string) error {
	if err := a.checkConfirmable(yes); err != nil || yes {
		return err
	}
	ok, err := askConfirmation(a.in, a.errOut, prompt)
	if err != nil {
		return err
	}
	if !ok {
		return errAborted
	}
	return nil
}

// askConfirmation writes prompt to w and reads one answer line from r; only
// "y" or "yes" (any case) confirm.
func askConfirmation(r io.Reader, w io.Writer, prompt string) (bool, error) {
	fmt.Fprintf(w, "%s [y/N]: ", prompt)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read confirmation: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
