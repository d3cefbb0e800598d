// Package migrations holds Strongroom's PostgreSQL schema as numbered SQL
// files (0001_init.sql, 0002_..., ...) embedded into the binary.
//
// Files are applied in lexical order, each in its own transaction, by
// storage/postgres.Migrate, which records every applied file by name in the
// schema_migrations table and serializes concurrent runs with an advisory
// lock. A file must therefore contain only statements that can run inside a
// transaction (no CREATE INDEX CONCURRENTLY), and an applied file must never
// be edited: add a new numbered file instead.
//
// A new migration comes with testdata/<its name>: rows written in the schema
// as it leaves it. migrate_test.go applies the migrations one at a time with
// each step's rows inserted after it, then reads every row back through the
// PostgreSQL store, so a later migration that loses or rewrites data fails.
// Only the *.sql files at the root are embedded; testdata stays out of the
// binary.
package migrations
