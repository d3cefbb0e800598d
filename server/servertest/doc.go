// Package servertest starts a real Strongroom server (PostgreSQL store, real
// HTTP or HTTPS listener on loopback) for end-to-end tests and benchmarks,
// and waits on conditions (Poll, Eventually). Only tests and benchmarks
// import it; it never holds production code.
package servertest
