// Package bench holds Strongroom's performance measurements: Go benchmarks
// of the token and introspection endpoints over real HTTP against a real
// PostgreSQL store, each reported beside a floor measured in the same run (a
// bare pgx single-row INSERT loop), and load.sh for wrk runs against the
// built binary. Figures are reported, never asserted: the machines are shared
// and noisy.
package bench
