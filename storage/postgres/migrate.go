package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/migrations"
)

// ErrSchemaBehind is returned (wrapped) by CheckSchema when the database
// lacks migrations that this binary embeds.
var ErrSchemaBehind = errors.New("postgres: database schema is behind this binary")

// migrateLock is the pg_advisory_xact_lock key that serializes migration
// runs across nodes (the ASCII bytes of "strongmi").
const migrateLock int64 = 0x7374726f6e676d69

// MigrationState tells whether one embedded migration has been applied.
type MigrationState struct {
	Name      string     // file name, e.g. "0001_init.sql"
	Applied   bool       // recorded in schema_migrations
	AppliedAt *time.Time // when it was applied (UTC), nil if not applied
}

// MigrationNames lists the embedded migration files in the order they apply.
func MigrationNames() ([]string, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var names []string
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() && path.Ext(e.Name()) == ".sql" {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Migrate applies every embedded migration that the database lacks, in
// order, and returns the names of those it applied. Each file runs in its own
// transaction, under a cluster-wide advisory lock, and is recorded in
// schema_migrations in that same transaction; the applied set is read again
// after the lock is taken, so concurrent Migrate calls (several nodes
// starting at once) are safe and apply each file exactly once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (applied []string, err error) {
	names, err := MigrationNames()
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return migrate(ctx, pool, names)
}

// MigrateTo is Migrate that stops after the embedded migration named last
// (e.g. "0004_mfa.sql"): it applies, in order, every migration up to and
// including last that the database lacks. It serves tests that put data in
// between migration steps; last must name an embedded migration.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, last string) (applied []string, err error) {
	names, err := MigrationNames()
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate to %s: %w", last, err)
	}
	i := slices.Index(names, last)
	if i < 0 {
		return nil, fmt.Errorf("postgres: migrate to %s: no such embedded migration", last)
	}
	return migrate(ctx, pool, names[:i+1])
}

// migrate applies the named migrations, in the order given, that the
// database lacks, creating schema_migrations first if needed.
func migrate(ctx context.Context, pool *pgxpool.Pool, names []string) (applied []string, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: create schema_migrations: %w", mapError(err))
	}
	for _, name := range names {
		done, err := applyMigration(ctx, pool, name)
		if err != nil {
			return applied, fmt.Errorf("postgres: migrate: %s: %w", name, err)
		}
		if done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// applyMigration applies one file unless it is already recorded, and reports
// whether it did.
func applyMigration(ctx context.Context, pool *pgxpool.Pool, name string) (done bool, err error) {
	sql, err := fs.ReadFile(migrations.FS, name)
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return mapError(err)
		}
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&exists)
		if err != nil || exists {
			return mapError(err)
		}
		// Without arguments pgx uses the simple protocol, which runs every
		// statement of the file.
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
			return mapError(err)
		}
		done = true
		return nil
	})
	return done, err
}

// MigrationStatus lists every embedded migration in order and whether the
// database has it. A database never migrated has none.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) ([]MigrationState, error) {
	names, err := MigrationNames()
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	appliedAt := map[string]time.Time{}
	var hasTable bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&hasTable); err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", mapError(err))
	}
	if hasTable {
		rows, err := pool.Query(ctx, `SELECT name, applied_at FROM schema_migrations`)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration status: %w", mapError(err))
		}
		var name string
		var at time.Time
		_, err = pgx.ForEachRow(rows, []any{&name, &at}, func() error {
			appliedAt[name] = at.UTC()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: migration status: %w", mapError(err))
		}
	}
	states := make([]MigrationState, len(names))
	for i, name := range names {
		states[i] = MigrationState{Name: name}
		if at, ok := appliedAt[name]; ok {
			states[i].Applied = true
			states[i].AppliedAt = &at
		}
	}
	return states, nil
}

// CheckSchema returns an error wrapping ErrSchemaBehind, naming the missing
// migrations and the command that applies them, when the database lacks any
// embedded migration. serve calls it at startup.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	states, err := MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	var missing []string
	for _, st := range states {
		if !st.Applied {
			missing = append(missing, st.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %d migration(s) not applied (%s); run `strongroom migrate up`",
			ErrSchemaBehind, len(missing), strings.Join(missing, ", "))
	}
	return nil
}
