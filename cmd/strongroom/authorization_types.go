package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/api/admin/client"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/server"
)

// newAuthorizationTypesCmd is `strongroom authorization-types`: the
// authorization details types (RFC 9396) the deployment accepts, each with
// the JSON Schema its objects must meet; on the database, or on the admin
// API with --endpoint.
func newAuthorizationTypesCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := newGroupCmd("authorization-types",
		"Manage the authorization details types (RFC 9396) clients may request",
		`  strongroom authorization-types add --type account_information --schema account_information.json
  strongroom authorization-types list
  strongroom authorization-types remove --type account_information
  strongroom authorization-types list --endpoint https://auth.internal:8081 --token-file admin.token`,
		newAuthorizationTypesAddCmd(a, rf), newAuthorizationTypesListCmd(a, rf), newAuthorizationTypesRemoveCmd(a, rf))
	addRemoteFlags(cmd, rf)
	return cmd
}

// authorizationTypesBackend is what the commands act on: the database
// (local mode, audited as the operator) or the admin API (--endpoint).
type authorizationTypesBackend interface {
	List(ctx context.Context) ([]authzadmin.AuthorizationTypeInfo, error)
	Add(ctx context.Context, typ string, schema []byte) error
	Remove(ctx context.Context, typ string) error
}

// localAuthorizationTypes runs the service over the database as the operator.
type localAuthorizationTypes struct {
	svc   *authzadmin.AuthorizationTypeAdmin
	actor authzadmin.Actor
}

func (l localAuthorizationTypes) List(ctx context.Context) ([]authzadmin.AuthorizationTypeInfo, error) {
	return l.svc.List(ctx)
}

func (l localAuthorizationTypes) Add(ctx context.Context, typ string, schema []byte) error {
	return l.svc.Add(ctx, l.actor, typ, schema)
}

func (l localAuthorizationTypes) Remove(ctx context.Context, typ string) error {
	return l.svc.Remove(ctx, l.actor, typ)
}

// withAuthorizationTypes runs fn on the backend --endpoint selects.
func (a *app) withAuthorizationTypes(ctx context.Context, rf *remoteFlags, fn func(authorizationTypesBackend) error) error {
	closeStore := func() {}
	b, err := openMode(a, rf, func(c *client.Client) authorizationTypesBackend { return c.AuthorizationTypes },
		func() (authorizationTypesBackend, error) {
			store, closeFn, err := a.openStore(ctx)
			if err != nil {
				return nil, err
			}
			closeStore = closeFn
			svc := server.NewAdminServices(store, server.AdminServicesOptions{}).AuthorizationTypes
			return localAuthorizationTypes{svc: svc, actor: a.operator()}, nil
		})
	if err != nil {
		return err
	}
	defer closeStore()
	return fn(b)
}

func newAuthorizationTypesAddCmd(a *app, rf *remoteFlags) *cobra.Command {
	var typ, schemaFile string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register an authorization details type with its JSON Schema",
		Long: `Register an authorization details type (RFC 9396 §2). Every object of the
type in an authorization_details parameter must meet the JSON Schema
(draft 2020-12 unless the document says otherwise; self-contained: no $ref
is loaded from files or the network). Clients may request it once they list
it (clients update --authorization-details-type). payment_initiation is
built in. With --endpoint it goes through the admin API.`,
		Example: `  strongroom authorization-types add --type account_information --schema account_information.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typ == "" || schemaFile == "" {
				return usageErrorf("--type and --schema are required")
			}
			schema, err := os.ReadFile(schemaFile) // #nosec G304 -- the operator's --schema file
			if err != nil {
				return usageErrorf("--schema: %v", err)
			}
			if !json.Valid(schema) {
				return usageErrorf("--schema %s is not JSON", schemaFile)
			}
			return a.withAuthorizationTypes(cmd.Context(), rf, func(s authorizationTypesBackend) error {
				if err := s.Add(cmd.Context(), typ, schema); err != nil {
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

func newAuthorizationTypesListCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the authorization details types: built in and registered",
		Example: "  strongroom authorization-types list -o json",
		Args:    cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.withAuthorizationTypes(cmd.Context(), rf, func(s authorizationTypesBackend) error {
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

func newAuthorizationTypesRemoveCmd(a *app, rf *remoteFlags) *cobra.Command {
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
			return a.withAuthorizationTypes(cmd.Context(), rf, func(s authorizationTypesBackend) error {
				if err := s.Remove(cmd.Context(), typ); err != nil {
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
