package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

func newUsersGetCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "get ID|USERNAME",
		Short: "Show one end user",
		Example: `  strongroom users get alice
  strongroom users get 0b6c1f0e-8f5d-4c52-9f39-2f0d5c1e7a10 -o json
  strongroom users get alice --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.ExactArgs(1),
	}
	output := addOutputFlag(cmd)
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		u, err := b.GetUser(ctx, args[0])
		if errors.Is(err, authzadmin.ErrNotFound) {
			return fmt.Errorf("user %q not found", args[0])
		}
		if err != nil {
			return err
		}
		if *output == formatJSON {
			return writeJSON(a.out, u)
		}
		w := newTable(a.out)
		fmt.Fprintf(w, "ID\t%s\n", u.ID)
		fmt.Fprintf(w, "USERNAME\t%s\n", u.Username)
		fmt.Fprintf(w, "EMAIL\t%s\n", orDash(u.Email))
		fmt.Fprintf(w, "EMAIL VERIFIED\t%t\n", u.EmailVerified)
		fmt.Fprintf(w, "NAME\t%s\n", orDash(u.Name))
		fmt.Fprintf(w, "GIVEN NAME\t%s\n", orDash(u.GivenName))
		fmt.Fprintf(w, "FAMILY NAME\t%s\n", orDash(u.FamilyName))
		fmt.Fprintf(w, "PHONE NUMBER\t%s\n", orDash(u.PhoneNumber))
		fmt.Fprintf(w, "PHONE VERIFIED\t%t\n", u.PhoneNumberVerified)
		fmt.Fprintf(w, "CREATED\t%s\n", formatTime(u.CreatedAt))
		fmt.Fprintf(w, "UPDATED\t%s\n", formatTime(u.UpdatedAt))
		return w.Flush()
	}
	return cmd
}

// maxUserImportBytes bounds the file `users import` reads.
const maxUserImportBytes = 64 << 20

// readUserRecords reads JSON lines or one JSON array of user records.
// Errors name the line or element, never a password hash.
func readUserRecords(r io.Reader) ([]authzadmin.UserRecord, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxUserImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	if len(data) > maxUserImportBytes {
		return nil, fmt.Errorf("the file is larger than %d MiB", maxUserImportBytes>>20)
	}
	trimmed := bytes.TrimSpace(data)
	var recs []authzadmin.UserRecord
	if bytes.HasPrefix(trimmed, []byte("[")) {
		var raw []json.RawMessage
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return nil, errors.New("the file starts with '[' but is not a JSON array")
		}
		for i, m := range raw {
			var rec authzadmin.UserRecord
			if err := strictJSON(m, &rec); err != nil {
				return nil, fmt.Errorf("element %d: %w", i+1, err)
			}
			recs = append(recs, rec)
		}
		return recs, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec authzadmin.UserRecord
		if err := strictJSON(line, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return recs, nil
}

// strictJSON decodes one user record, refusing unknown fields. The error
// does not quote the input (it may hold a hash).
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return errors.New(strings.TrimPrefix(err.Error(), "json: "))
		}
		return errors.New("not a JSON object of a user")
	}
	return nil
}

func newUsersImportCmd(a *app) *cobra.Command {
	var skipExisting bool
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import end users with their password hashes",
		Long: `Import end users from FILE ("-" for standard input): JSON lines, or one JSON
array, of objects with username, email, email_verified, name, given_name,
family_name, phone_number (E.164: '+' then 8 to 15 digits),
phone_number_verified, optionally id (a UUID, kept as the OpenID Connect subject) and
password_hash. The hash is argon2id in PHC format or bcrypt ($2a$, $2b$, $2y$,
cost at most 14), so users keep their passwords; a bcrypt hash is replaced with
argon2id at the user's first successful login. Other formats are refused.

The import is all-or-nothing: any invalid record or existing username fails
it and nothing is written. With --skip-existing, existing users are reported
as skipped and left unchanged. Each user is reported; hashes never are.
With --endpoint the file goes to the admin API (POST /admin/v1/user-import,
at most the API's request body limit, 4 MiB by default).`,
		Example: `  strongroom users import users.jsonl
  strongroom users import --skip-existing -o json users.json
  strongroom users import users.jsonl --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVar(&skipExisting, "skip-existing", false, "leave users whose username or id exists unchanged instead of failing")
	output := addOutputFlag(cmd)
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		var in io.Reader = a.in
		if args[0] != "-" {
			f, err := os.Open(args[0]) // #nosec G304 -- the operator names the file
			if err != nil {
				return fmt.Errorf("open %s: %w", args[0], err)
			}
			defer f.Close()
			in = f
		}
		recs, err := readUserRecords(in)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		if len(recs) == 0 {
			return fmt.Errorf("%s: no users in the file", args[0])
		}
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		res, ierr := b.ImportUsers(ctx, recs, skipExisting)
		var ve *registration.ValidationError
		if errors.As(ierr, &ve) {
			return fmt.Errorf("import failed: nothing was imported; fix these records (or use --skip-existing for existing users) and run it again:\n%w", ierr)
		}
		if ierr != nil && !errors.Is(ierr, authzadmin.ErrUserImportFailed) {
			return ierr
		}
		if *output == formatJSON {
			if err := writeJSON(a.out, res); err != nil {
				return err
			}
		} else {
			w := newTable(a.out)
			fmt.Fprintln(w, "USERNAME\tSTATUS\tID\tERROR")
			for _, r := range res {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", orDash(r.Username), r.Status, orDash(r.ID), orDash(r.Error))
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if ierr != nil {
			return errors.New("import failed: nothing was imported; fix the records above (or use --skip-existing for existing users) and run it again")
		}
		return nil
	}
	return cmd
}

func newUsersExportCmd(a *app) *cobra.Command {
	var withHashes bool
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export end users as JSON lines",
		Long: `Write every end user as one JSON object a line, in the format users import
reads. Password hashes are left out unless --with-password-hashes is given;
treat such an export as a secret. With --endpoint the users come from the
admin API (GET /admin/v1/user-export).`,
		Example: `  strongroom users export > users.jsonl
  strongroom users export --with-password-hashes > users-with-hashes.jsonl
  strongroom users export --endpoint https://auth.internal:8081 --token-file admin.token > users.jsonl`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&withHashes, "with-password-hashes", false, "include each user's password hash (argon2id or bcrypt)")
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		recs, err := b.ExportUsers(ctx, withHashes)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := writeJSON(a.out, r); err != nil {
				return err
			}
		}
		return nil
	}
	return cmd
}

func newUsersUpdateCmd(a *app) *cobra.Command {
	var email, name, givenName, familyName, phone string
	var emailVerified, phoneVerified bool
	rf := &remoteFlags{}
	cmd := &cobra.Command{
		Use:   "update ID|USERNAME",
		Short: "Change an end user's email, names and phone number",
		Long: `Change an end user's profile: only the flags given change, and the change is
audited (the fields' names, not their values). A new --email without
--email-verified makes email_verified false, and a new --phone-number
(E.164: '+' then 8 to 15 digits) without --phone-number-verified makes
phone_number_verified false. An empty value clears a field.`,
		Example: `  strongroom users update alice --email alice@example.com --email-verified
  strongroom users update alice --phone-number +14155550100 --phone-number-verified
  strongroom users update alice --given-name Alice --family-name Liddell --name "Alice Liddell"
  strongroom users update alice --email-verified=false --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "email address")
	f.BoolVar(&emailVerified, "email-verified", false, "whether the email address is verified")
	f.StringVar(&name, "name", "", "full name")
	f.StringVar(&givenName, "given-name", "", "given name")
	f.StringVar(&familyName, "family-name", "", "family name")
	f.StringVar(&phone, "phone-number", "", "phone number in E.164 form, e.g. +14155550100")
	f.BoolVar(&phoneVerified, "phone-number-verified", false, "whether the phone number is verified")
	output := addOutputFlag(cmd)
	addRemoteFlags(cmd, rf)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		var upd authzadmin.UserUpdate
		for flag, dst := range map[string]**string{"email": &upd.Email, "name": &upd.Name, "given-name": &upd.GivenName, "family-name": &upd.FamilyName, "phone-number": &upd.PhoneNumber} {
			if f.Changed(flag) {
				v, _ := f.GetString(flag)
				*dst = &v
			}
		}
		if f.Changed("email-verified") {
			upd.EmailVerified = &emailVerified
		}
		if f.Changed("phone-number-verified") {
			upd.PhoneNumberVerified = &phoneVerified
		}
		if upd == (authzadmin.UserUpdate{}) {
			return usageErrorf("nothing to change: give --email, --email-verified, --name, --given-name, --family-name, --phone-number or --phone-number-verified")
		}
		b, err := a.openUsers(ctx, rf)
		if err != nil {
			return err
		}
		defer b.Close()
		u, err := b.UpdateUser(ctx, args[0], upd)
		if errors.Is(err, authzadmin.ErrNotFound) {
			return fmt.Errorf("user %q not found", args[0])
		}
		if err != nil {
			return err
		}
		if *output == formatJSON {
			return writeJSON(a.out, u)
		}
		fmt.Fprintf(a.out, "Updated user %s (%s).\n", u.Username, u.ID)
		return nil
	}
	return cmd
}
