// Package migrations holds Strongroom's PostgreSQL schema as numbered SQL
// files (0001_init.sql, 0002_..., ...) embedded into the binary.
//
// Files are applied in lexical order, each in its own transaction, by
// storage/postgres.Migrate, which records every applied file by name in the
// schema_migrations table and serializes concurrent runs with an advisory
// lock. A file must therefore contain only statements that can run inside a
// transaction (no CREATE INDEX CONCURRENTLY), and an applied file must never
// be edited: add a new numbered file instead.
package migrations
