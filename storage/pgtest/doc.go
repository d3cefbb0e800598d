// Package pgtest gives tests their own PostgreSQL database.
//
// NewDatabase connects to the server named by STRONGROOM_TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
// creates a fresh database named strongroom_test_<random hex>, applies the
// embedded migrations to it and drops it again when the test ends. When the
// server cannot be reached the test fails (it never skips): a missing
// database must fail the run, not pass it silently.
package pgtest
