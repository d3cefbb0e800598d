package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/server"
)

// newAuthorizationTypesCmd is `strongroom authorization-types`: the
// authorization details types (RFC 9396) the deployment accepts, each with
// the JSON Schema its objects must meet. It works on the database (local
// mode); the admin API has no route for it yet.
func newAuthorizationTypesCmd(a *app) *cobra.Command {
	return newGroupCmd("authorization-types",
		"Manage the authorization details types (RFC 9396) clients may request",
		`  strongroom authorization-types add --type account_information --schema account_information.json
  strongroom authorization-types list
  strongroom authorization-types remove --type account_information`,
		newAuthorizationTypesAddCmd(a), newAuthorizationTypesListCmd(a), newAuthorizationTypesRemoveCmd(a))
}

// withAuthorizationTypes runs fn on the service over the database.
func (a *app) withAuthorizationTypes(ctx context.Context, fn func(*authzadmin.AuthorizationTypeAdmin) error) error {
	store, closeStore, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	return fn(server.NewAdminServices(store, server.AdminServicesOptions{}).AuthorizationTypes)
}

func newAuthorizationTypesAddCmd(a *app) *cobra.Command {
	var typ, schemaFile string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register an authorization details type with its JSON Schema",
		Long: `Register an authorization details type (RFC 9396 §2). Every object of the
type in an authorization_details parameter must meet the JSON Schema
(draft 2020-12 unless the document says otherwise; self-contained: no $ref
is loaded from files or the network). Clients may request it once they list
it (clients update --authorization-details-type). payment_initiation is
built in.`,
		Example: `  strongroom authorization-types add --type account_information --schema account_information.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typ == "" || schemaFile == "" {
				return usageErrorf("--type and --schema are required")
			}
			schema, err := os.ReadFile(schemaFile)
			if err != nil {
				return usageErrorf("--schema: %v", err)
			}
			return a.withAuthorizationTypes(cmd.Context(), func(s *authzadmin.AuthorizationTypeAdmin) error {
				if err := s.Add(cmd.Context(), a.operator(), typ, schema); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Authorization details type %s added.\n", typ)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "the type name (the objects' \"type\" value)")
	cmd.Flags().StringVar(&schemaFile, "schema", "", "file holding the type's JSON Schema")
	return cmd
}

func newAuthorizationTypesListCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the authorization details types: built in and registered",
		Example: "  strongroom authorization-types list -o json",
		Args:    cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.withAuthorizationTypes(cmd.Context(), func(s *authzadmin.AuthorizationTypeAdmin) error {
			types, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, types)
			}
			tw := newTable(a.out)
			fmt.Fprintln(tw, "TYPE\tSOURCE\tCREATED")
			for _, t := range types {
				source, created := "registered", "-"
				if t.Builtin {
					source = "built in"
				}
				if t.CreatedAt != nil {
					created = formatTime(*t.CreatedAt)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Type, source, created)
			}
			return tw.Flush()
		})
	}
	return cmd
}

func newAuthorizationTypesRemoveCmd(a *app) *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:     "remove",
		Short:   "Remove a registered authorization details type (requests for it are refused from then on)",
		Example: "  strongroom authorization-types remove --type account_information",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typ == "" {
				return usageErrorf("--type is required")
			}
			return a.withAuthorizationTypes(cmd.Context(), func(s *authzadmin.AuthorizationTypeAdmin) error {
				if err := s.Remove(cmd.Context(), a.operator(), typ); err != nil {
					return err
				}
				fmt.Fprintf(a.out, "Authorization details type %s removed.\n", typ)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "the type name")
	return cmd
}
