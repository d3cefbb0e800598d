package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/strongroom/strongroom/authz/registration"
)

// fileFormat picks JSON or YAML: the --format flag, else the file's
// extension, else JSON.
func fileFormat(flag, path string) (string, error) {
	switch flag {
	case "json", "yaml":
		return flag, nil
	case "":
	default:
		return "", usageErrorf(`--format must be "json" or "yaml"`)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return "yaml", nil
	}
	return "json", nil
}

// maxImportBytes bounds an import file.
const maxImportBytes = 16 << 20

// readSpecs reads one client or a list of clients from a JSON or YAML file
// (RFC 7591 field names). Unknown fields are refused. Errors never quote
// the content: it may hold client secrets.
func readSpecs(r io.Reader, format string) ([]registration.ClientSpec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxImportBytes {
		return nil, fmt.Errorf("larger than %d MiB", maxImportBytes>>20)
	}
	if format == "yaml" {
		var v any
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid YAML: %s", yamlErrorLine(err))
		}
		if data, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("YAML that JSON cannot represent (use string keys): %w", err)
		}
	}
	specs, err := registration.DecodeClientSpecs(data)
	if err != nil {
		return nil, err
	}
	return specs, nil
}

// yamlErrorLine keeps the position of a YAML error, not the quoted content.
func yamlErrorLine(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		if j := strings.Index(msg[i:], ":"); j > 0 {
			return "error at " + msg[i:i+j]
		}
	}
	return "syntax error"
}

func newClientsImportCmd(a *app, rf *remoteFlags) *cobra.Command {
	var format, from string
	var upsert, skipExisting bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Register clients from a JSON or YAML file (all or nothing, or client by client)",
		Long: `Register the clients of FILE (one client or a list, with RFC 7591 field
names as written by export; "-" reads standard input), in one transaction:
when any client is invalid or its id is taken, nothing is imported and
every problem is reported. Clients keep their client_id. An existing plain
client_secret (at least 32 characters) may be given and is stored hashed;
a secret-based client without one gets a generated secret, printed once.

--upsert or --skip-existing import client by client instead: a client whose
client_id exists is updated to the file's registration (its secrets are
kept) or left alone, the others are created, and a client that fails does
not stop the rest. Each client's result is reported (created, updated,
skipped, failed with the reason); the command fails when any client failed.

--from hydra reads the output of "hydra list clients --format json" (Ory
Hydra). Fields with a Strongroom equivalent are imported; the others
(owner, metadata, allowed_cors_origins, per-grant token lifespans, ...) are
named per client and not imported. Hydra never exports client secrets, so
every secret-based client gets a NEW generated secret, printed once:
deliver it to the client's operators.`,
		Example: `  strongroom clients export -f staging.yaml --endpoint https://staging:8081 --token-file staging.token
  strongroom clients import staging.yaml
  strongroom clients import clients.json -o json > issued-secrets.json
  strongroom clients import clients.yaml --upsert
  hydra list clients --format json > hydra-clients.json
  strongroom clients import --from hydra hydra-clients.json -o json > issued-secrets.json`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&format, "format", "", `file format: "json" or "yaml" (default: by extension, else json)`)
	cmd.Flags().StringVar(&from, "from", "strongroom", `what wrote FILE: "strongroom" (export) or "hydra" (hydra list clients --format json)`)
	cmd.Flags().BoolVar(&upsert, "upsert", false, "client by client: update clients whose client_id exists, create the others")
	cmd.Flags().BoolVar(&skipExisting, "skip-existing", false, "client by client: leave clients whose client_id exists alone, create the others")
	cmd.MarkFlagsMutuallyExclusive("upsert", "skip-existing")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		path := args[0]
		if from != "strongroom" && from != "hydra" {
			return usageErrorf(`--from must be "strongroom" or "hydra"`)
		}
		f, err := fileFormat(format, path)
		if err != nil {
			return err
		}
		var in io.Reader = a.in
		if path != "-" {
			file, err := os.Open(path) // #nosec G304 -- a file the operator names on the command line
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			defer file.Close()
			in = file
		}
		var specs []registration.ClientSpec
		var unsupported [][]string
		if from == "hydra" {
			specs, unsupported, err = readHydra(in, f)
		} else {
			specs, err = readSpecs(in, f)
		}
		if err != nil {
			return fmt.Errorf("import %s: %w; nothing was imported", path, err)
		}
		return a.withClients(ctx, rf, true, func(b adminBackend) error {
			if upsert || skipExisting || from == "hydra" {
				return a.importReported(ctx, b, path, specs, unsupported, upsert, skipExisting, *output)
			}
			progress := a.importProgress(len(specs), b.Remote())
			res, err := b.ImportClients(ctx, specs, progress)
			if err != nil {
				var ve *registration.ValidationError
				if errors.As(err, &ve) {
					return fmt.Errorf("import %s: nothing was imported:\n%w", path, err)
				}
				return fmt.Errorf("import %s: %w", path, err)
			}
			if *output == formatJSON {
				return writeJSON(a.out, res)
			}
			fmt.Fprintf(a.out, "Imported %d client(s).\n\n", len(res))
			tw := newTable(a.out)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tNEW SECRET")
			generated := false
			for _, r := range res {
				secret := "-"
				if r.Secret != nil {
					secret, generated = r.Secret.ClientSecret, true
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ClientID, r.ClientName, secret)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if generated {
				fmt.Fprintln(a.out, "\nStore the new secrets now: they are shown only this once and cannot be recovered.")
			}
			return nil
		})
	}
	return cmd
}

// readHydra reads a Hydra client export (JSON, or YAML through JSON).
func readHydra(r io.Reader, format string) ([]registration.ClientSpec, [][]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxImportBytes {
		return nil, nil, fmt.Errorf("larger than %d MiB", maxImportBytes>>20)
	}
	if format == "yaml" {
		var v any
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("invalid YAML: %s", yamlErrorLine(err))
		}
		if data, err = json.Marshal(v); err != nil {
			return nil, nil, fmt.Errorf("YAML that JSON cannot represent (use string keys): %w", err)
		}
	}
	return readHydraClients(data)
}

// importReported imports client by client (upsert or skipExisting), or a
// Hydra export all or nothing, and prints one row per client.
func (a *app) importReported(ctx context.Context, b adminBackend, path string, specs []registration.ClientSpec, unsupported [][]string, upsert, skipExisting bool, output outputFormat) error {
	var rows []importReportRow
	if upsert || skipExisting {
		rows = importEach(ctx, b, specs, upsert)
	} else {
		res, err := b.ImportClients(ctx, specs, a.importProgress(len(specs), b.Remote()))
		if err != nil {
			return fmt.Errorf("import %s: nothing was imported:\n%w", path, err)
		}
		for i, r := range res {
			rows = append(rows, importReportRow{Index: i + 1, ClientID: r.ClientID, ClientName: r.ClientName, Result: importCreated, Secret: r.Secret})
		}
	}
	failed, generated := 0, false
	for i := range rows {
		if i < len(unsupported) {
			rows[i].Unsupported = unsupported[i]
		}
		if rows[i].Result == importFailed {
			failed++
		}
		if rows[i].Secret != nil {
			generated = true
		}
	}
	if output == formatJSON {
		if err := writeJSON(a.out, rows); err != nil {
			return err
		}
	} else {
		tw := newTable(a.out)
		fmt.Fprintln(tw, "#\tCLIENT ID\tNAME\tRESULT\tNEW SECRET\tNOTE")
		for _, r := range rows {
			secret := "-"
			if r.Secret != nil {
				secret = r.Secret.ClientSecret
			}
			var notes []string
			if r.Reason != "" {
				notes = append(notes, r.Reason)
			}
			if len(r.Unsupported) > 0 {
				notes = append(notes, "not imported: "+strings.Join(r.Unsupported, ", "))
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Index, orDash(r.ClientID), orDash(r.ClientName), r.Result, secret, orDash(strings.Join(notes, "; ")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if generated {
			fmt.Fprintln(a.out, "\nStore the new secrets now: they are shown only this once and cannot be recovered.")
		}
	}
	if failed > 0 {
		return fmt.Errorf("import %s: %d of %d client(s) failed; the others were imported as reported", path, failed, len(rows))
	}
	return nil
}

// importProgress reports progress on standard error for imports of many
// clients (every tenth, and the last); a remote import is one request.
func (a *app) importProgress(total int, remote bool) func(done, total int) {
	if total < 20 {
		return nil
	}
	if remote {
		fmt.Fprintf(a.errOut, "Importing %d clients through the admin API...\n", total)
		return nil
	}
	step := max(total/10, 1)
	return func(done, total int) {
		if done%step == 0 || done == total {
			fmt.Fprintf(a.errOut, "Imported %d/%d clients\n", done, total)
		}
	}
}

func newClientsExportCmd(a *app, rf *remoteFlags) *cobra.Command {
	var format, file string
	cmd := &cobra.Command{
		Use:   "export [CLIENT_ID...]",
		Short: "Write client registrations as JSON or YAML, for import elsewhere",
		Long: `Write the registrations of the named clients (all when none is named), in
the format import reads. Secrets never leave the server: their hashes are
keyed by this environment's STRONGROOM_SECRET and would not verify
elsewhere; import generates new ones (or takes the plain secrets you add).`,
		Example: `  strongroom clients export > clients.json
  strongroom clients export 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f -f partner.yaml
  strongroom clients export --format yaml
  strongroom clients export -o yaml`,
		Args: cobra.ArbitraryArgs,
	}
	cmd.Flags().StringVar(&format, "format", "", `output format: "json" or "yaml" (default: by --file extension, else json)`)
	var alias string
	cmd.Flags().StringVarP(&alias, "output", "o", "", `the same as --format (-o as on the other clients commands)`)
	cmd.Flags().StringVarP(&file, "file", "f", "", "write to this file instead of standard output (created, mode 0600)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if alias != "" {
			if format != "" && format != alias {
				return usageErrorf("--format %q and -o %q disagree: give one", format, alias)
			}
			format = alias
		}
		f, err := fileFormat(format, file)
		if err != nil {
			return err
		}
		return a.withClients(ctx, rf, false, func(b adminBackend) error {
			specs, err := b.ExportClients(ctx, args)
			if err != nil {
				return err
			}
			if specs == nil {
				specs = []registration.ClientSpec{}
			}
			var buf bytes.Buffer
			if f == "yaml" {
				// Through JSON, so YAML keys are the RFC 7591 names.
				raw, err := json.Marshal(specs) // #nosec G117 -- the export carries secrets only when the operator asks for them with a flag, to a file they name
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					return fmt.Errorf("export: %w", err)
				}
				enc := yaml.NewEncoder(&buf)
				enc.SetIndent(2)
				if err := enc.Encode(v); err != nil {
					return fmt.Errorf("export: %w", err)
				}
			} else {
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(specs); err != nil { // #nosec G117 -- the export carries secrets only when the operator asks for them with a flag, to a file they name
					return fmt.Errorf("export: %w", err)
				}
			}
			if file == "" {
				_, err := a.out.Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			fmt.Fprintf(a.errOut, "Exported %d client(s) to %s.\n", len(specs), file)
			return nil
		})
	}
	return cmd
}
