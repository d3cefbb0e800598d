package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/storage/postgres"
)

func newMigrateCmd(a *app) *cobra.Command {
	return newGroupCmd("migrate", "Manage the database schema",
		`  strongroom migrate status
  strongroom migrate up`,
		newMigrateUpCmd(a),
		newMigrateStatusCmd(a),
	)
}

func newMigrateUpCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Apply every migration the database lacks",
		Long: `Apply, in order, every schema migration embedded in this binary that the
database lacks. Each migration runs in its own transaction under an advisory
lock, so running it from several nodes at once is safe. Run it before starting
a new version of the server: serve refuses a schema that is behind.`,
		Example: `  DATABASE_URL=postgres://strongroom@db.internal/strongroom strongroom migrate up
  strongroom migrate up -o json`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		return a.withPool(ctx, func(pool *pgxpool.Pool) error {
			applied, err := postgres.Migrate(ctx, pool)
			if err != nil {
				return err
			}
			if applied == nil {
				applied = []string{}
			}
			return printResult(a.out, *output, struct {
				Applied []string `json:"applied"`
			}{applied}, func() error {
				if len(applied) == 0 {
					fmt.Fprintln(a.out, "The database schema is up to date.")
					return nil
				}
				for _, name := range applied {
					fmt.Fprintf(a.out, "Applied %s\n", name)
				}
				return nil
			})
		})
	}
	return cmd
}

// migrationView is one row of `migrate status -o json`.
type migrationView struct {
	Name      string     `json:"name"`
	Applied   bool       `json:"applied"`
	AppliedAt *time.Time `json:"applied_at"`
}

func newMigrateStatusCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the migrations and whether each is applied",
		Example: `  strongroom migrate status
  strongroom migrate status -o json`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		return a.withPool(ctx, func(pool *pgxpool.Pool) error {
			states, err := postgres.MigrationStatus(ctx, pool)
			if err != nil {
				return err
			}
			views := make([]migrationView, len(states))
			for i, s := range states {
				views[i] = migrationView{Name: s.Name, Applied: s.Applied, AppliedAt: s.AppliedAt}
			}
			return printList(a.out, *output, views, []string{"NAME", "APPLIED", "APPLIED AT"}, func(v migrationView) []string {
				at := "-"
				if v.AppliedAt != nil {
					at = formatTime(*v.AppliedAt)
				}
				return []string{v.Name, yesNo(v.Applied), at}
			})
		})
	}
	return cmd
}

// withPool opens the database without checking its schema (migrate needs
// exactly that), runs fn on its pool and closes it.
func (a *app) withPool(ctx context.Context, fn func(pool *pgxpool.Pool) error) error {
	st, err := a.openPostgres(ctx)
	return use(st, err, func(st *postgres.Store) error { return fn(st.Pool()) })
}
